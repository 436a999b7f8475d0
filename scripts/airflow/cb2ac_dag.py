"""cb2ac: Chargebee -> ActiveCampaign, one Airflow task per stage.

Works on Airflow 2.9+ and 3.x (see the imports below).

Each task runs one cb2ac stage into one run folder, so a retried task re-runs only
its own stage. The run id is taken by the `start` task from the DAG run's data
interval (its end: when a scheduled run's data is complete), else from the run's
logical date, else from `run_after` or the `run_id` of an Airflow 3 manual run,
which has no logical date. cb2ac holds DATA/lock while it works: a task that starts
while another cb2ac holds it exits 75 and is retried.

Exit codes: 0 ok; 2 means cb2ac ran but records were rejected (validate with
on_error: fail, or AC refused records): the task fails at once, without retries
(running it again rejects the same records; `cb2ac errors` says which); 75 (lock
held) and anything else are retried.

Every stage task writes the metrics file (param metrics_file; "" for the config's
metrics_file) for node_exporter's textfile collector.

Backfill: trigger with params {"backfill_from": "/var/lib/cb2ac/data/runs/<id>/extract"}
to skip the extract and run validate -> transform -> load from that historical
extract snapshot.

Params never reach the shell as code: each is handed to the task in an environment
variable and the commands use it double-quoted ("$CB2AC_BACKFILL_FROM"), so a
trigger's backfill_from is one argument whatever it holds. The bash commands hold
no Jinja at all.

Secrets: CHARGEBEE_API_KEY_FILE / AC_API_TOKEN_FILE in the worker's environment
(files readable only by the worker), never in the DAG or its params.
"""

import re
from datetime import datetime, timedelta, timezone

try:  # Airflow 3: the task SDK and the standard provider
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.9+
    from airflow import DAG
try:
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.python import BranchPythonOperator
except ImportError:
    from airflow.operators.bash import BashOperator
    from airflow.operators.python import BranchPythonOperator
from airflow.exceptions import AirflowException, AirflowFailException, AirflowSkipException

# cb2ac's exit codes (README "Running it every night").
EXIT_REJECTED = 2
EXIT_LOCKED = 75

RUN_ID_FORMAT = "%Y%m%dT%H%M%SZ"

# BashOperator's message for a non-zero exit: "... non-zero exit code N."
_EXIT_CODE_RE = re.compile(r"exit code (\d+)")


def cb2ac_run_id(context):
    """The cb2ac run id (20261204T180000Z) for this DAG run, from whichever time the
    Airflow version put in the context: the data interval's end, the logical date,
    run_after (Airflow 3), else the time in run_id (manual__2026-12-04T15:33:12+00:00)."""
    dag_run = context.get("dag_run")
    for t in (
        context.get("data_interval_end"),
        context.get("logical_date"),
        getattr(dag_run, "run_after", None),
        getattr(dag_run, "logical_date", None),
    ):
        if t is not None:
            return _utc(t).strftime(RUN_ID_FORMAT)
    run_id = context.get("run_id") or getattr(dag_run, "run_id", "") or ""
    stamp = run_id.split("__", 1)[-1]
    try:
        return _utc(datetime.fromisoformat(stamp)).strftime(RUN_ID_FORMAT)
    except ValueError:
        raise AirflowFailException("cb2ac: no time to name the run after in run_id %r" % run_id)


def _utc(t):
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc)


def _start(**context):
    """Names the run (XCom run_id) and picks the first stage."""
    context["ti"].xcom_push(key="run_id", value=cb2ac_run_id(context))
    if context["params"].get("backfill_from"):
        return "validate_backfill"
    return "extract"


class Cb2acOperator(BashOperator):
    """A BashOperator that fails without retries on cb2ac's exit 2 (records
    rejected: a retry rejects them again). Exit 75 and every other failure are
    retried as usual."""

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowSkipException:
            raise
        except AirflowException as err:
            m = _EXIT_CODE_RE.search(str(err))
            if m and int(m.group(1)) == EXIT_REJECTED:
                raise AirflowFailException(
                    "cb2ac exited 2: records were rejected; not retried. "
                    "See `cb2ac errors --run %s`." % context["ti"].xcom_pull(task_ids="start", key="run_id")
                ) from err
            raise


# Every param and the run id reach the commands as environment variables.
ENV = {
    "CB2AC_CONFIG": "{{ params.config }}",
    "CB2AC_DATA_DIR": "{{ params.data_dir }}",
    "CB2AC_METRICS_FILE": "{{ params.metrics_file }}",
    "CB2AC_BACKFILL_FROM": "{{ params.backfill_from }}",
    "CB2AC_RUN_ID": "{{ ti.xcom_pull(task_ids='start', key='run_id') }}",
}

# The part of every command before the stage; the stage's arguments follow.
CB2AC = (
    'cb2ac --data-dir "$CB2AC_DATA_DIR" --run-id "$CB2AC_RUN_ID" --log-format json'
    ' --metrics-file "$CB2AC_METRICS_FILE"'
)

default_args = {
    "owner": "data",
    "retries": 3,
    "retry_delay": timedelta(minutes=10),
    "retry_exponential_backoff": True,
    # The nightly extract of a million customers takes about 22 minutes.
    "execution_timeout": timedelta(hours=3),
    "env": ENV,
    "append_env": True,
}

with DAG(
    dag_id="cb2ac",
    description="Sync Chargebee customers and subscriptions to ActiveCampaign",
    schedule="0 */6 * * *",
    start_date=datetime(2026, 11, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    default_args=default_args,
    params={
        "config": "/etc/cb2ac/cb2ac.yaml",
        "data_dir": "/var/lib/cb2ac/data",
        "metrics_file": "/var/lib/node_exporter/textfile/cb2ac.prom",
        "backfill_from": "",
    },
    tags=["cb2ac", "chargebee", "activecampaign"],
) as dag:
    start = BranchPythonOperator(task_id="start", python_callable=_start, execution_timeout=timedelta(minutes=5))

    extract = Cb2acOperator(
        task_id="extract",
        bash_command=CB2AC + " extract --source chargebee",
    )
    validate = Cb2acOperator(
        task_id="validate",
        bash_command=CB2AC + " validate",
    )
    validate_backfill = Cb2acOperator(
        task_id="validate_backfill",
        bash_command=CB2AC + ' validate --in "$CB2AC_BACKFILL_FROM"',
    )
    transform = Cb2acOperator(
        task_id="transform",
        bash_command=CB2AC + " transform",
        trigger_rule="none_failed_min_one_success",
    )
    # A load that died half way continues where its journal stopped.
    load = Cb2acOperator(
        task_id="load",
        bash_command=CB2AC + " load --resume",
    )

    start >> [extract, validate_backfill]
    extract >> validate >> transform
    validate_backfill >> transform
    transform >> load
