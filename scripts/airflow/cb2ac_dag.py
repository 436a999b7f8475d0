"""cb2ac: Chargebee -> ActiveCampaign, one Airflow task per stage, run with BashOperator
on workers where cb2ac is installed.

Works on Airflow 2.9+ and 3.x. Needs cb2ac_airflow.py beside it in the dags folder
(the run id, the start task, the exit codes and the task order, shared with
cb2ac_k8s_dag.py, are explained there).

Executors: each task reads the previous task's files from the data dir, so every
worker must reach the same data dir. With LocalExecutor (one machine) a path on its
disk does; with CeleryExecutor or KubernetesExecutor workers share no disk, so
data_dir must be an object-storage URL (s3://bucket/prefix, gs://..., azblob://...),
whose credentials each worker holds the usual way for its cloud. cb2ac holds its lock
(DATA/lock) while it works: a task that starts while another cb2ac holds it exits 75
and is retried.

Exit codes: 0 ok; 2 means cb2ac ran but records were rejected (validate with
on_error: fail, or AC refused records): the task fails at once, without retries
(running it again rejects the same records; `cb2ac errors` says which); 75 (lock
held) and anything else are retried.

Every stage task writes the metrics file (param metrics_file; "" for the config's
metrics_file) for node_exporter's textfile collector.

Backfill: trigger with params {"backfill_from": "<data_dir>/runs/<id>/extract"} to skip
the extract and run validate -> transform -> load from that historical extract
snapshot. A DAG run for a past data interval without it is refused (see
cb2ac_airflow.start): keep catchup off.

Params never reach the shell as code: each is handed to the task in an environment
variable and the commands use it double-quoted ("$CB2AC_BACKFILL_FROM"), so a
trigger's backfill_from is one argument whatever it holds. The bash commands hold
no Jinja at all.

Secrets: CHARGEBEE_API_KEY_FILE / AC_API_TOKEN_FILE in the worker's environment
(files readable only by the worker), never in the DAG or its params.
"""

from datetime import datetime, timezone

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
from airflow.exceptions import AirflowException, AirflowSkipException

import cb2ac_airflow as cb


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
            m = cb.BASH_EXIT_CODE_RE.search(str(err))
            if m:
                cb.fail_if_rejected(int(m.group(1)), err, context)
            raise


# Every param and the run id reach the commands as environment variables.
ENV = {
    "CB2AC_CONFIG": "{{ params.config }}",
    "CB2AC_DATA_DIR": cb.data_dir_template("/var/lib/cb2ac/data"),
    "CB2AC_METRICS_FILE": "{{ params.metrics_file }}",
    "CB2AC_BACKFILL_FROM": "{{ params.backfill_from }}",
    "CB2AC_RUN_ID": cb.RUN_ID_TEMPLATE,
    "CB2AC_CHECK_SOURCE": cb.CHECK_SOURCE_TEMPLATE,
    "CB2AC_YES": cb.YES_TEMPLATE,
}

# The part of every stage command before the stage; the stage's arguments follow.
CB2AC = (
    'cb2ac --data-dir "$CB2AC_DATA_DIR" --run-id "$CB2AC_RUN_ID" --log-format json'
    ' --metrics-file "$CB2AC_METRICS_FILE"'
)

with DAG(
    dag_id="cb2ac",
    description="Sync Chargebee customers and subscriptions to ActiveCampaign",
    schedule=cb.SCHEDULE,
    start_date=datetime(2026, 11, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=cb.DAGRUN_TIMEOUT,
    default_args=dict(cb.DEFAULT_ARGS, env=ENV, append_env=True),
    params={
        "config": "/etc/cb2ac/cb2ac.yaml",
        # A folder on this machine's disk (LocalExecutor), or an object-storage URL
        # such as s3://bucket/cb2ac when tasks run on different workers; "" for the
        # Airflow Variable cb2ac_data_dir, else /var/lib/cb2ac/data.
        "data_dir": "",
        "metrics_file": "/var/lib/node_exporter/textfile/cb2ac.prom",
        "backfill_from": "",
    },
    tags=["cb2ac", "chargebee", "activecampaign"],
) as dag:
    check = Cb2acOperator(
        task_id="check",
        bash_command='cb2ac --data-dir "$CB2AC_DATA_DIR" --log-format json check --source "$CB2AC_CHECK_SOURCE"',
        **cb.CHECK_ARGS,
    )
    start = BranchPythonOperator(task_id="start", python_callable=cb.start, **cb.START_ARGS)

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
        bash_command=CB2AC + " load --resume" + (' --yes="$CB2AC_YES"' if cb.LOAD_TAKES_YES else ""),
    )

    check >> start >> [extract, validate_backfill]
    extract >> validate >> transform
    validate_backfill >> transform
    transform >> load
