"""cb2ac: Chargebee -> ActiveCampaign, one Airflow task per stage.

Each task runs one cb2ac stage into the run folder named after the DAG run's
logical date, so a retried task re-runs only its own stage and a backfill of a past
date writes that date's run. cb2ac holds DATA/lock while it works: a task that
starts while another cb2ac holds it exits 75 and is retried.

Backfill: trigger with params {"backfill_from": "/var/lib/cb2ac/data/runs/<id>/extract"}
to skip the extract and run validate -> transform -> load from that historical
extract snapshot.

Secrets: CHARGEBEE_API_KEY_FILE / AC_API_TOKEN_FILE in the worker's environment
(files readable only by the worker), never in the DAG or its params.
"""

from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import BranchPythonOperator

RUN_ID = "{{ logical_date.strftime('%Y%m%dT%H%M%SZ') }}"

default_args = {
    "owner": "data",
    "retries": 3,
    "retry_delay": timedelta(minutes=10),
    "retry_exponential_backoff": True,
    "env": {
        "CB2AC_CONFIG": "{{ params.config }}",
    },
    "append_env": True,
}


def _choose_start(**context):
    if context["params"].get("backfill_from"):
        return "validate_backfill"
    return "extract"


with DAG(
    dag_id="cb2ac",
    description="Sync Chargebee customers and subscriptions to ActiveCampaign",
    schedule="0 */6 * * *",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    params={
        "config": "/etc/cb2ac/cb2ac.yaml",
        "data_dir": "/var/lib/cb2ac/data",
        "backfill_from": "",
    },
    tags=["cb2ac", "chargebee", "activecampaign"],
) as dag:
    start = BranchPythonOperator(task_id="start", python_callable=_choose_start)

    extract = BashOperator(
        task_id="extract",
        bash_command="cb2ac --data-dir {{ params.data_dir }} --run-id " + RUN_ID + " --log-format json extract --source chargebee",
    )
    validate = BashOperator(
        task_id="validate",
        bash_command="cb2ac --data-dir {{ params.data_dir }} --run-id " + RUN_ID + " --log-format json validate",
    )
    validate_backfill = BashOperator(
        task_id="validate_backfill",
        bash_command="cb2ac --data-dir {{ params.data_dir }} --run-id " + RUN_ID + " --log-format json validate --in {{ params.backfill_from }}",
    )
    transform = BashOperator(
        task_id="transform",
        bash_command="cb2ac --data-dir {{ params.data_dir }} --run-id " + RUN_ID + " --log-format json transform",
        trigger_rule="none_failed_min_one_success",
    )
    # A load that died half way continues where its journal stopped.
    load = BashOperator(
        task_id="load",
        bash_command="cb2ac --data-dir {{ params.data_dir }} --run-id " + RUN_ID + " --log-format json load --resume",
    )

    start >> [extract, validate_backfill]
    extract >> validate >> transform
    validate_backfill >> transform
    transform >> load
