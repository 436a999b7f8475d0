"""What cb2ac's two example DAGs share: the run id, the start task, the exit codes.

cb2ac_dag.py runs each stage with BashOperator on a worker where cb2ac is installed;
cb2ac_k8s_dag.py runs each stage in a pod of cb2ac's container image with
KubernetesPodOperator. Copy this file beside them into the dags folder (Airflow puts
that folder on sys.path); it defines no DAG itself. Works on Airflow 2.9+ and 3.x.

The tasks, in both DAGs:

    check -> start -> extract -> validate ---------> transform -> load
                   \-> validate_backfill (backfill) /

- check: `cb2ac check`, the set-up in seconds (Chargebee key and site, AC token, list,
  custom fields) before the long part; the stage commands do not check again (only
  `cb2ac run` checks on its own, and the DAG runs stage commands). A backfill reads
  no API, so its check asks only ActiveCampaign.
- start: names the run (XCom run_id) and picks the first stage; refuses a DAG run for
  a past data interval (catchup, `airflow dags backfill`, a manual run given an old
  logical date) unless it is a snapshot backfill: an extract now reads Chargebee as
  it is now, so it would file today's data under a past date's run id. A snapshot
  backfill of a past interval is named after the time it starts (a new run folder),
  not after the interval, whose own run folder may hold what was sent then.
- a backfill (trigger param backfill_from = DATA/runs/<id>/extract) replays that
  extract snapshot through validate -> transform -> load.
"""

import re
from datetime import datetime, timedelta, timezone

from airflow.exceptions import AirflowFailException

# cb2ac's exit codes (README "Running it every night").
EXIT_REJECTED = 2
EXIT_LOCKED = 75

RUN_ID_FORMAT = "%Y%m%dT%H%M%SZ"

SCHEDULE = "0 */6 * * *"
DAGRUN_TIMEOUT = timedelta(hours=6)
# A scheduled run starts minutes after its interval ends, or waits behind the
# previous run (max_active_runs=1) for at most that run's dagrun_timeout. A run that
# starts later than this after its interval's end is for a past interval.
MAX_START_DELAY = DAGRUN_TIMEOUT + timedelta(hours=1)

# Whether `cb2ac load` takes --yes (the confirmation a backfill load asks for, since
# it moves AC records back to older values). The DAGs pass --yes=true on a backfill
# and --yes=false otherwise when this is True; internal/cli TestAirflowDAG fails
# while it disagrees with the cb2ac the tests build (set it False only for a cb2ac
# older than `load --yes`).
LOAD_TAKES_YES = True

# Jinja templates the DAGs render per run (Airflow renders them with params and ti
# in the context). None of them puts a param's text into a shell command.
RUN_ID_TEMPLATE = "{{ ti.xcom_pull(task_ids='start', key='run_id') }}"
# check asks Chargebee only when the run reads it.
CHECK_SOURCE_TEMPLATE = "{{ 'snapshot' if params.backfill_from else 'chargebee' }}"
YES_TEMPLATE = "{{ 'true' if params.backfill_from else 'false' }}"


def data_dir_template(default):
    """The data dir, a folder or an object-storage URL: the DAG run's param data_dir,
    else the Airflow Variable cb2ac_data_dir (one place to set it per deployment),
    else default."""
    return "{{ params.data_dir or var.value.get('cb2ac_data_dir', %r) }}" % default

# Task settings both DAGs use.
DEFAULT_ARGS = {
    "owner": "data",
    "retries": 3,
    "retry_delay": timedelta(minutes=10),
    "retry_exponential_backoff": True,
    # The nightly extract of a million customers takes about 22 minutes.
    "execution_timeout": timedelta(hours=3),
}
# check answers in seconds (cb2ac bounds it at 2 minutes); a retry rides out a blip.
CHECK_ARGS = {"retries": 2, "retry_delay": timedelta(minutes=2), "execution_timeout": timedelta(minutes=5)}
START_ARGS = {"execution_timeout": timedelta(minutes=5)}


def _utcnow():
    return datetime.now(timezone.utc)


def run_time(context):
    """The time this DAG run is named after. A scheduled (or backfill) run: its data
    interval's end, when the interval's data is complete. Any other run (manual,
    asset-triggered): its own time, the logical date, else run_after (an Airflow 3
    manual run has no logical date), else the time in run_id
    (manual__2026-12-04T15:33:12+00:00); not the data interval, which Airflow 2 sets
    for a manual run to the last complete one, the very interval, and run id, of the
    scheduled run before it."""
    dag_run = context.get("dag_run")
    times = [context.get("logical_date"), getattr(dag_run, "run_after", None), getattr(dag_run, "logical_date", None)]
    if _run_type(context) in (None, "scheduled", "backfill"):
        times.insert(0, context.get("data_interval_end"))
    for t in times:
        if t is not None:
            return _utc(t)
    run_id = context.get("run_id") or getattr(dag_run, "run_id", "") or ""
    stamp = run_id.split("__", 1)[-1]
    try:
        return _utc(datetime.fromisoformat(stamp))
    except ValueError:
        raise AirflowFailException("cb2ac: no time to name the run after in run_id %r" % run_id)


def _run_type(context):
    run_type = getattr(context.get("dag_run"), "run_type", None)
    return getattr(run_type, "value", run_type)


def cb2ac_run_id(context):
    """The cb2ac run id (20261204T180000Z) for this DAG run."""
    return run_time(context).strftime(RUN_ID_FORMAT)


def _utc(t):
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc)


def past_interval(context):
    """Why this DAG run is for a past data interval, or None when it is for now."""
    if _run_type(context) == "backfill":
        return "it is an Airflow backfill run"
    lag = _utcnow() - run_time(context)
    if lag > MAX_START_DELAY:
        return "its data interval ended %s, %s before it started" % (run_time(context).isoformat(), _human(lag))
    return None


def _human(d):
    hours = int(d.total_seconds() // 3600)
    return "%d days %d hours" % divmod(hours, 24) if hours >= 24 else "%d hours" % hours


def start(**context):
    """The start task: names the run (XCom run_id) and returns the first stage's task."""
    run_id = cb2ac_run_id(context)
    backfill_from = context["params"].get("backfill_from")
    why = past_interval(context)
    if why and not backfill_from:
        raise AirflowFailException(
            "cb2ac: refusing DAG run %s for a past data interval (%s): an extract now reads "
            "Chargebee as it is today and would file it under the past run id %s. To re-send "
            "an older snapshot, trigger a run with backfill_from set to that run's extract "
            "folder (DATA/runs/<id>/extract; `cb2ac status` lists the runs). Keep catchup off."
            % (context.get("run_id"), why, run_id)
        )
    if why:
        # A snapshot replay for a past interval: that interval's own run folder may
        # exist and hold what was sent then, so the replay is a new run, named after
        # now.
        run_id = _utcnow().strftime(RUN_ID_FORMAT)
    context["ti"].xcom_push(key="run_id", value=run_id)
    if backfill_from:
        return "validate_backfill"
    return "extract"


def fail_if_rejected(code, err, context):
    """Called with a failed cb2ac task's exit code and error: exit 2 (records rejected:
    a retry rejects them again; `cb2ac errors` says which) fails the task at once,
    without retries. For 75 (the lock is held) and every other code it returns, and
    the caller re-raises err, which Airflow retries as usual."""
    if code == EXIT_REJECTED:
        raise AirflowFailException(
            "cb2ac exited 2: records were rejected; not retried. See `cb2ac errors --run %s`."
            % context["ti"].xcom_pull(task_ids="start", key="run_id")
        ) from err


# BashOperator's message for a non-zero exit: "... non-zero exit code N."
BASH_EXIT_CODE_RE = re.compile(r"exit code (\d+)")
