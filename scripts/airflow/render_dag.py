"""Renders and runs cb2ac_dag.py's tasks without Airflow, for internal/cli TestAirflowDAG.

usage: python3 render_dag.py DAG_FILE WORK_DIR AIRFLOW_MAJOR(2|3) CB2AC_STUB

Writes a stub of the airflow modules into WORK_DIR laid out as the given Airflow
major version has them (2: airflow.operators.bash, airflow.DAG; 3:
airflow.providers.standard.operators.bash, airflow.sdk.DAG, and no
airflow.operators.bash), imports the DAG, and for each context shape that version
gives a task (scheduled, manual, backfill, and on 3 a manual run with no logical
date) runs `start`, renders every task's templated fields with jinja2 (StrictUndefined,
as Airflow) and runs its bash command with bash, CB2AC_STUB standing in for cb2ac
on the PATH. The stub prints its arguments as JSON; its exit code is FAKE_RC.
Prints one JSON object: shape -> {"branch", "run_id", "tasks": {task -> {...}}}.
"""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone

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


def write_stubs(root, major):
    def put(rel, text):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))

    put("airflow/_dag.py", STUB_DAG)
    put("airflow/exceptions.py", STUB_COMMON)
    put("airflow/_ops.py", STUB_BASE)
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
        for pkg in ("airflow/providers/__init__.py", "airflow/providers/standard/__init__.py",
                    "airflow/providers/standard/operators/__init__.py"):
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


class DagRun:
    def __init__(self, run_id, logical_date, run_after=None):
        self.run_id, self.logical_date = run_id, logical_date
        if run_after is not None:
            self.run_after = run_after


def contexts(major, params, injected):
    """The context shapes each Airflow version gives a task."""
    utc = timezone.utc
    start, end = datetime(2026, 12, 4, 12, tzinfo=utc), datetime(2026, 12, 4, 18, tzinfo=utc)
    manual = datetime(2026, 12, 4, 15, 33, 12, 123456, tzinfo=utc)
    out = {}

    def ctx(run_id, logical, interval, dag_run, p):
        c = {"run_id": run_id, "dag_run": dag_run, "params": dict(params, **p)}
        if logical is not None:  # Airflow 3 leaves these out when there is no logical date
            c.update(logical_date=logical, ds=logical.strftime("%Y-%m-%d"),
                     data_interval_start=interval[0], data_interval_end=interval[1])
        return c

    if major == 2:
        # CronDataIntervalTimetable: logical date = interval start, run at its end.
        out["scheduled"] = ctx("scheduled__2026-12-04T12:00:00+00:00", start, (start, end),
                               DagRun("scheduled__2026-12-04T12:00:00+00:00", start), {})
        out["manual"] = ctx("manual__2026-12-04T15:33:12.123456+00:00", manual, (manual, manual),
                            DagRun("manual__2026-12-04T15:33:12.123456+00:00", manual), {})
    else:
        # CronTriggerTimetable: a zero-length interval at the run's time.
        out["scheduled"] = ctx("scheduled__2026-12-04T18:00:00+00:00", end, (end, end),
                               DagRun("scheduled__2026-12-04T18:00:00+00:00", end, run_after=end), {})
        out["manual"] = ctx("manual__2026-12-04T15:33:12.123456+00:00", None, None,
                            DagRun("manual__2026-12-04T15:33:12.123456+00:00", None, run_after=manual), {})
        out["manual_run_id_only"] = ctx("manual__2026-12-04T15:33:12.123456+00:00", None, None,
                                        DagRun("manual__2026-12-04T15:33:12.123456+00:00", None), {})
    out["backfill"] = dict(out["manual"], params=dict(params, backfill_from=injected))
    return out


def render(value, context):
    """Renders a templated field as Airflow does, with jinja2 (StrictUndefined). Without
    jinja2, a stand-in that knows only the two forms the DAG uses and refuses others."""
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    try:
        import jinja2
    except ImportError:
        return _render_plain(value, context)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return env.from_string(value).render(**context)


def _render_plain(value, context):
    import re

    def one(m):
        expr = m.group(1).strip()
        if expr.startswith("params."):
            return str(context["params"][expr[len("params."):]])
        if expr == "ti.xcom_pull(task_ids='start', key='run_id')":
            return str(context["ti"].xcom_pull(task_ids="start", key="run_id"))
        raise SystemExit("render_dag.py: no jinja2 and a template it cannot read: " + expr)

    if "{%" in value:
        raise SystemExit("render_dag.py: no jinja2 and a {% %} block: " + value)
    return re.sub(r"\{\{(.*?)\}\}", one, value)


def main():
    dag_file, work, major, stub = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    write_stubs(work, major)
    sys.path.insert(0, work)
    spec = importlib.util.spec_from_file_location("cb2ac_dag", dag_file)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    dag = mod.dag
    from airflow.exceptions import AirflowFailException, AirflowException

    os.environ["PATH"] = os.path.dirname(stub) + os.pathsep + os.environ["PATH"]
    injected = os.environ["INJECTED"]
    templates = {tid: (t.bash_command, t.env) for tid, t in dag.tasks.items() if hasattr(t, "bash_command")}
    result = {"dag": {"params": dag.params, "dagrun_timeout": str(dag.kw.get("dagrun_timeout"))}}
    for shape, context in contexts(major, dag.params, injected).items():
        ti = TI()
        context = dict(context, ti=ti)
        start = dag.tasks["start"]
        branch = start.python_callable(**context)
        tasks = {}
        for tid, task in dag.tasks.items():
            info = {
                "downstream": task.downstream,
                "retries": task.args.get("retries"),
                "execution_timeout": str(task.args.get("execution_timeout")),
            }
            if tid in templates:
                task.bash_command = render(templates[tid][0], context)
                task.env = render(templates[tid][1], context)
                info.update(command=task.bash_command, env=task.env)
                for rc in ("0", "2", "75"):
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
        result[shape] = {"branch": branch, "run_id": ti.xcom.get("run_id"), "tasks": tasks}
    json.dump(result, sys.stdout, indent=1, default=str)


if __name__ == "__main__":
    main()
