"""Renders and runs a cb2ac DAG's tasks without Airflow, for internal/cli TestAirflowDAG.

usage: python3 render_dag.py DAG_FILE WORK_DIR AIRFLOW_MAJOR(2|3) CB2AC_STUB

Environment: INJECTED, a hostile backfill_from; LOAD_TAKES_YES=1 (or 0) renders the
DAG as if cb2ac_airflow.LOAD_TAKES_YES were True (False); the output's dag.load_takes_yes
is the value the file declares. EXIT_CODES (default 0,2,75): the exit codes each task
is run with.

Writes a stub of the airflow (and kubernetes client) modules into WORK_DIR laid out
as the given Airflow major version has them (2: airflow.operators.bash, airflow.DAG;
3: airflow.providers.standard.operators.bash, airflow.sdk.DAG, and no
airflow.operators.bash; both: the cncf.kubernetes provider's
operators.pod.KubernetesPodOperator and secret.Secret), imports the DAG, and for
each context shape that version gives a task (scheduled, manual, a trigger's
backfill, catchup and Airflow backfill runs of a past interval, and on 3 a manual
run with no logical date) runs `start` at the shape's wall-clock time, renders every
task's templated fields with jinja2 (StrictUndefined, as Airflow) and runs it with
CB2AC_STUB standing in for cb2ac: a BashOperator's command with bash (cb2ac on the
PATH), a KubernetesPodOperator's arguments as the argv of the image's entrypoint
(no shell), its exit code reported through cleanup() as the provider does. The stub
prints its arguments as JSON; its exit code is FAKE_RC. Prints one JSON object:
shape -> {"params", "branch" or "start_error", "run_id", "tasks": {task -> {...}}}.
"""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone

import jinja2

STUB_COMMON = '''
class AirflowException(Exception):
    pass

class AirflowFailException(AirflowException):
    pass

class AirflowSkipException(AirflowException):
    pass
'''

STUB_DAG = '''
_current = []

class DAG:
    def __init__(self, dag_id, default_args=None, params=None, **kw):
        self.dag_id, self.default_args, self.params, self.kw = dag_id, default_args or {}, params or {}, kw
        self.tasks = {}
    def __enter__(self):
        _current.append(self)
        return self
    def __exit__(self, *a):
        _current.pop()
'''

STUB_BASE = '''
import subprocess
from airflow import _dag
from airflow.exceptions import AirflowException, AirflowSkipException

class BaseOperator:
    template_fields = ()
    def __init__(self, task_id, **kw):
        dag = _dag._current[-1]
        args = dict(dag.default_args)
        args.update(kw)
        self.task_id, self.dag, self.args = task_id, dag, args
        self.downstream = []
        dag.tasks[task_id] = self
    def __rshift__(self, other):
        for o in other if isinstance(other, list) else [other]:
            self.downstream.append(o.task_id)
        return other
    def __rrshift__(self, other):
        for o in other:
            o >> self
        return self

class BashOperator(BaseOperator):
    template_fields = ("bash_command", "env")
    def __init__(self, task_id, bash_command, **kw):
        super().__init__(task_id, **kw)
        self.bash_command = bash_command
        self.env = self.args.get("env")
        self.skip_on_exit_code = self.args.get("skip_on_exit_code", [99])
    def execute(self, context):
        # As Airflow's: bash -c the command with env (+ os.environ when append_env).
        import os
        env = dict(os.environ) if self.args.get("append_env") else {}
        env.update(self.env or {})
        r = subprocess.run(["bash", "-c", self.bash_command], env=env, capture_output=True, text=True)
        self.output = r.stdout
        if r.returncode in self.skip_on_exit_code:
            raise AirflowSkipException(f"Bash command returned exit code {r.returncode}. Skipping.")
        if r.returncode != 0:
            raise AirflowException(f"Bash command failed. The command returned a non-zero exit code {r.returncode}.")
        return r.stdout

class BranchPythonOperator(BaseOperator):
    def __init__(self, task_id, python_callable, **kw):
        super().__init__(task_id, **kw)
        self.python_callable = python_callable
'''

# The provider's KubernetesPodOperator as far as a DAG sees it: its parameters, its
# templated fields, and how it reports the pod's end: the base container's exit code
# is in the remote pod's status, and cleanup() raises AirflowException for a failed
# pod (AirflowSkipException for skip_on_exit_code). Providers for Airflow 2 call
# cleanup(pod=, remote_pod=); newer ones add xcom_result= and context=.
STUB_KPO = '''
import os, subprocess
from airflow._ops import BaseOperator
from airflow.exceptions import AirflowException, AirflowSkipException

ENTRYPOINT = os.environ["CB2AC_STUB"]
CLEANUP_GETS_CONTEXT = %(cleanup_gets_context)r

class _Obj:
    def __init__(self, **kw):
        self.__dict__.update(kw)

class KubernetesPodOperator(BaseOperator):
    BASE_CONTAINER_NAME = "base"
    template_fields = ("image", "name", "cmds", "arguments", "env_vars", "namespace", "env_from",
                       "container_resources", "volumes", "volume_mounts")
    def __init__(self, *, task_id, image=None, name=None, namespace=None, cmds=None, arguments=None,
                 env_vars=None, env_from=None, secrets=None, volumes=None, volume_mounts=None,
                 container_resources=None, service_account_name=None, security_context=None,
                 container_security_context=None, get_logs=True, on_finish_action="delete_pod",
                 skip_on_exit_code=None, base_container_name=None, **kw):
        super().__init__(task_id, **kw)
        self.image, self.name, self.namespace, self.cmds, self.arguments = image, name, namespace, cmds, arguments
        self.env_vars, self.env_from, self.secrets = env_vars, env_from, secrets
        self.volumes, self.volume_mounts, self.container_resources = volumes, volume_mounts, container_resources
        self.service_account_name, self.security_context = service_account_name, security_context
        self.container_security_context, self.on_finish_action = container_security_context, on_finish_action
        self.skip_on_exit_code = skip_on_exit_code or []
        self.base_container_name = base_container_name or self.BASE_CONTAINER_NAME
    def execute(self, context):
        argv = (self.cmds or [ENTRYPOINT]) + list(self.arguments or [])
        # The pod's environment is its env_vars alone (plus the stub's FAKE_RC).
        env = {"PATH": os.environ["PATH"], "FAKE_RC": os.environ.get("FAKE_RC", "0")}
        env.update(self.env_vars or {})
        r = subprocess.run(argv, env=env, capture_output=True, text=True)
        self.output = r.stdout
        terminated = _Obj(exit_code=r.returncode)
        remote = _Obj(status=_Obj(phase="Succeeded" if r.returncode == 0 else "Failed",
                                  container_statuses=[_Obj(name=self.base_container_name, state=_Obj(terminated=terminated))]))
        pod = _Obj(metadata=_Obj(name=self.name))
        if CLEANUP_GETS_CONTEXT:
            self.cleanup(pod=pod, remote_pod=remote, xcom_result=None, context=context)
        else:
            self.cleanup(pod=pod, remote_pod=remote)
        return r.stdout
    def cleanup(self, pod, remote_pod, xcom_result=None, context=None):
        code = remote_pod.status.container_statuses[0].state.terminated.exit_code
        if code in self.skip_on_exit_code:
            raise AirflowSkipException(f"Pod {pod.metadata.name} returned exit code {code}. Skipping.")
        if remote_pod.status.phase != "Succeeded":
            raise AirflowException(f"Pod {pod.metadata.name} returned a failure.")
'''

STUB_SECRET = '''
class Secret:
    def __init__(self, deploy_type, deploy_target, secret, key=None, items=None):
        self.deploy_type, self.deploy_target, self.secret, self.key = deploy_type, deploy_target, secret, key
'''

# kubernetes.client.models: every V1... class takes its fields as keywords.
STUB_K8S_MODELS = '''
class _Model:
    def __init__(self, **kw):
        self.__dict__.update(kw)

def __getattr__(name):
    if not name.startswith("V1"):
        raise AttributeError(name)
    cls = type(name, (_Model,), {})
    globals()[name] = cls
    return cls
'''


def write_stubs(root, major):
    def put(rel, text):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))

    put("airflow/_dag.py", STUB_DAG)
    put("airflow/exceptions.py", STUB_COMMON)
    put("airflow/_ops.py", STUB_BASE)
    for pkg in ("airflow/providers/__init__.py", "airflow/providers/cncf/__init__.py",
                "airflow/providers/cncf/kubernetes/__init__.py",
                "airflow/providers/cncf/kubernetes/operators/__init__.py",
                "kubernetes/__init__.py"):
        put(pkg, "")
    put("airflow/providers/cncf/kubernetes/operators/pod.py", STUB_KPO % {"cleanup_gets_context": major == 3})
    put("airflow/providers/cncf/kubernetes/secret.py", STUB_SECRET)
    put("kubernetes/client/__init__.py", "from kubernetes.client import models\n")
    put("kubernetes/client/models.py", STUB_K8S_MODELS)
    if major == 2:
        put("airflow/__init__.py", "from airflow._dag import DAG\n")
        put("airflow/operators/__init__.py", "")
        put("airflow/operators/bash.py", "from airflow._ops import BashOperator\n")
        put("airflow/operators/python.py", "from airflow._ops import BranchPythonOperator\n")
    else:
        # Airflow 3: DAG from the task SDK, operators from the standard provider;
        # airflow.operators.bash is gone.
        put("airflow/__init__.py", "")
        put("airflow/sdk/__init__.py", "from airflow._dag import DAG\n")
        for pkg in ("airflow/providers/standard/__init__.py", "airflow/providers/standard/operators/__init__.py"):
            put(pkg, "")
        put("airflow/providers/standard/operators/bash.py", "from airflow._ops import BashOperator\n")
        put("airflow/providers/standard/operators/python.py", "from airflow._ops import BranchPythonOperator\n")


class TI:
    def __init__(self):
        self.xcom = {}

    def xcom_push(self, key, value):
        self.xcom[key] = value

    def xcom_pull(self, task_ids=None, key="return_value"):
        return self.xcom.get(key)


class Variables:
    """Airflow's var.value in a template: var.value.get(key, default)."""

    def __init__(self, values):
        self.values = values

    def get(self, key, default_var=None):
        return self.values.get(key, default_var)


class DagRun:
    def __init__(self, run_id, logical_date, run_type, run_after=None):
        self.run_id, self.logical_date, self.run_type = run_id, logical_date, run_type
        if run_after is not None:
            self.run_after = run_after


def contexts(major, params, injected):
    """The context shapes each Airflow version gives a task, each with the wall-clock
    time its start task runs at."""
    utc = timezone.utc
    start, end = datetime(2026, 12, 4, 12, tzinfo=utc), datetime(2026, 12, 4, 18, tzinfo=utc)
    manual = datetime(2026, 12, 4, 15, 33, 12, 123456, tzinfo=utc)
    old_start, old_end = datetime(2026, 11, 2, 0, tzinfo=utc), datetime(2026, 11, 2, 6, tzinfo=utc)
    soon = timedelta(seconds=42)
    out = {}

    def ctx(now, run_type, run_id, logical, interval, p=None, run_after=None):
        dag_run = DagRun(run_id, logical, run_type, run_after=run_after)
        c = {"run_id": run_id, "dag_run": dag_run, "params": dict(params, **(p or {}))}
        if logical is not None:  # Airflow 3 leaves these out when there is no logical date
            c.update(logical_date=logical, ds=logical.strftime("%Y-%m-%d"),
                     data_interval_start=interval[0], data_interval_end=interval[1])
        return now, c

    bucket = {"data_dir": "s3://cb2ac-bucket/prod?region=eu-west-1"}
    if major == 2:
        # CronDataIntervalTimetable: logical date = interval start, run at its end.
        sched = "scheduled__2026-12-04T12:00:00+00:00"
        out["scheduled"] = ctx(end + soon, "scheduled", sched, start, (start, end))
        # Queued behind a previous run for 5 hours, on a bucket data dir.
        out["late"] = ctx(end + timedelta(hours=5), "scheduled", sched, start, (start, end), bucket)
        # A manual run: logical date = the trigger's time, data interval = the last
        # complete one (CronDataIntervalTimetable.infer_manual_data_interval), which
        # is the 12:00 scheduled run's.
        man = "manual__2026-12-04T15:33:12.123456+00:00"
        prev = (start - timedelta(hours=6), start)
        out["manual"] = ctx(manual + soon, "manual", man, manual, prev)
        out["backfill"] = ctx(manual + soon, "manual", man, manual, prev, {"backfill_from": injected})
        old = "scheduled__2026-11-02T00:00:00+00:00"
        out["catchup"] = ctx(end + soon, "scheduled", old, old_start, (old_start, old_end))
        bf = "backfill__2026-11-02T00:00:00+00:00"
        out["airflow_backfill"] = ctx(end + soon, "backfill", bf, old_start, (old_start, old_end))
        out["airflow_backfill_snapshot"] = ctx(end + soon, "backfill", bf, old_start, (old_start, old_end),
                                               {"backfill_from": injected})
    else:
        # CronTriggerTimetable: a zero-length interval at the run's time.
        sched = "scheduled__2026-12-04T18:00:00+00:00"
        out["scheduled"] = ctx(end + soon, "scheduled", sched, end, (end, end), run_after=end)
        out["late"] = ctx(end + timedelta(hours=5), "scheduled", sched, end, (end, end), bucket, run_after=end)
        man = "manual__2026-12-04T15:33:12.123456+00:00"
        out["manual"] = ctx(manual + soon, "manual", man, None, None, run_after=manual)
        out["manual_run_id_only"] = ctx(manual + soon, "manual", man, None, None)
        out["backfill"] = ctx(manual + soon, "manual", man, None, None, {"backfill_from": injected}, run_after=manual)
        old = "scheduled__2026-11-02T06:00:00+00:00"
        out["catchup"] = ctx(end + soon, "scheduled", old, old_end, (old_end, old_end), run_after=old_end)
        bf = "backfill__2026-11-02T06:00:00+00:00"
        out["airflow_backfill"] = ctx(end + soon, "backfill", bf, old_end, (old_end, old_end), run_after=old_end)
        out["airflow_backfill_snapshot"] = ctx(end + soon, "backfill", bf, old_end, (old_end, old_end),
                                               {"backfill_from": injected}, run_after=old_end)
    return out


def render(value, context):
    """Renders a templated field as Airflow does, with jinja2 (StrictUndefined): strings
    and the strings inside lists and dicts; other objects (kubernetes models) as they are."""
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    if not isinstance(value, str):
        return value
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return env.from_string(value).render(**context)


def to_json(o):
    d = {k: v for k, v in vars(o).items() if not k.startswith("_")} if hasattr(o, "__dict__") else str(o)
    if isinstance(d, dict):
        d["kind"] = type(o).__name__
    return d


def main():
    dag_file, work, major, stub = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    os.environ["CB2AC_STUB"] = stub
    write_stubs(work, major)
    sys.path.insert(0, work)
    sys.path.insert(1, os.path.dirname(os.path.abspath(dag_file)))  # as Airflow's dags folder
    import cb2ac_airflow

    declared_yes = cb2ac_airflow.LOAD_TAKES_YES  # the file's own value, before the test's
    cb2ac_airflow.LOAD_TAKES_YES = os.environ.get("LOAD_TAKES_YES") == "1"
    spec = importlib.util.spec_from_file_location("dag_under_test", dag_file)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    dag = mod.dag
    from airflow.exceptions import AirflowFailException, AirflowException

    os.environ["PATH"] = os.path.dirname(stub) + os.pathsep + os.environ["PATH"]
    injected = os.environ["INJECTED"]
    fields = {tid: {f: getattr(t, f) for f in t.template_fields} for tid, t in dag.tasks.items()}
    result = {"dag": {"params": dag.params, "dagrun_timeout": str(dag.kw.get("dagrun_timeout")),
                      "catchup": dag.kw.get("catchup"), "load_takes_yes": declared_yes}}
    for shape, (now, context) in contexts(major, dag.params, injected).items():
        cb2ac_airflow._utcnow = lambda: now
        ti = TI()
        context = dict(context, ti=ti)
        # Airflow 3's shapes run with the Variable cb2ac_data_dir set, Airflow 2's without.
        variables = {"cb2ac_data_dir": "gs://variable-bucket/cb2ac"} if major == 3 else {}
        context["var"] = {"value": Variables(variables)}
        out = {"params": context["params"], "variables": variables}
        try:
            out["branch"] = dag.tasks["start"].python_callable(**context)
        except AirflowFailException as err:
            out["start_error"] = str(err)
        out["run_id"] = ti.xcom.get("run_id")
        tasks = {}
        for tid, task in dag.tasks.items():
            info = {
                "downstream": task.downstream,
                "retries": task.args.get("retries"),
                "execution_timeout": str(task.args.get("execution_timeout")),
            }
            if "start_error" not in out and fields[tid]:
                for f, v in fields[tid].items():
                    setattr(task, f, render(v, context))
                if hasattr(task, "bash_command"):
                    info.update(command=task.bash_command, env=task.env)
                else:
                    info["pod"] = {k: v for k, v in vars(task).items()
                                   if k not in ("dag", "args", "downstream", "task_id", "output", "_context")}
                for rc in os.environ.get("EXIT_CODES", "0,2,75").split(","):
                    os.environ["FAKE_RC"] = rc
                    try:
                        task.execute(context)
                        info["argv"] = json.loads(task.output)
                        outcome = "ok"
                    except AirflowFailException:
                        outcome = "fail_no_retry"
                    except AirflowException:
                        outcome = "fail_retry"
                    info["exit_" + rc] = outcome
            tasks[tid] = info
        out["tasks"] = tasks
        result[shape] = out
    json.dump(result, sys.stdout, indent=1, default=to_json)


if __name__ == "__main__":
    main()
