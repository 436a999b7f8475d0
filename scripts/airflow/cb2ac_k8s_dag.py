"""cb2ac: Chargebee -> ActiveCampaign, one Kubernetes pod per stage, each from cb2ac's
container image (the repository's Dockerfile, `make image`).

Works on Airflow 2.9+ and 3.x with the cncf.kubernetes provider
(apache-airflow-providers-cncf-kubernetes; KubernetesPodOperator lives in
airflow.providers.cncf.kubernetes.operators.pod on both), under any executor: the
pods run in the cluster, not on the Airflow worker. Needs cb2ac_airflow.py beside it
in the dags folder (the run id, the start task, the exit codes and the task order,
shared with cb2ac_dag.py, are explained there).

The pods share no disk, so data_dir is an object-storage URL (s3://bucket/prefix,
gs://..., azblob://...). cb2ac's lock is then an object in the bucket: a stage that
starts while another cb2ac holds it exits 75 and the task is retried.

Set-up in the cluster (names are the constants below; edit them to yours):
- the image pushed to IMAGE;
- a Secret cb2ac with keys chargebee-api-key and ac-api-token (the pods get them as
  CHARGEBEE_API_KEY and AC_API_TOKEN);
- the bucket's credentials: best a service account bound to a cloud role (EKS IRSA,
  GKE Workload Identity, AKS workload identity) named in SERVICE_ACCOUNT; else a Secret
  cb2ac-cloud whose keys are the cloud SDK's variables (AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY, AWS_REGION; AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY), handed
  to the pod whole as environment variables (optional: absent, nothing is added);
- a ConfigMap cb2ac-config whose key cb2ac.yaml is the config (chargebee.site,
  activecampaign.api_url and .list, ...; leave metrics_file empty: a pod's files go
  with it).

Exit codes: 2 (records rejected) fails the task without retries; 75 (lock held) and
anything else are retried. Params reach cb2ac as arguments of the pod's command, one
argument each (the image has no shell), so no param is ever parsed as a command.
"""

from datetime import datetime, timezone

try:  # Airflow 3: the task SDK and the standard provider
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.9+
    from airflow import DAG
try:
    from airflow.providers.standard.operators.python import BranchPythonOperator
except ImportError:
    from airflow.operators.python import BranchPythonOperator
from airflow.exceptions import AirflowException, AirflowSkipException
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret
from kubernetes.client import models as k8s

import cb2ac_airflow as cb

IMAGE = "registry.example.com/cb2ac:v1"
NAMESPACE = "cb2ac"
SERVICE_ACCOUNT = "cb2ac"
# The image's user (Dockerfile USER): the pod runs as it, and Kubernetes checks it.
IMAGE_UID = 65532

SECRETS = [
    Secret("env", "CHARGEBEE_API_KEY", "cb2ac", "chargebee-api-key"),
    Secret("env", "AC_API_TOKEN", "cb2ac", "ac-api-token"),
]
CLOUD_CREDENTIALS = [k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name="cb2ac-cloud", optional=True))]

# The config from a ConfigMap; /tmp is the one writable folder (the root filesystem
# is read-only).
VOLUMES = [
    k8s.V1Volume(name="config", config_map=k8s.V1ConfigMapVolumeSource(name="cb2ac-config")),
    k8s.V1Volume(name="tmp", empty_dir=k8s.V1EmptyDirVolumeSource(size_limit="2Gi")),
]
VOLUME_MOUNTS = [
    k8s.V1VolumeMount(name="config", mount_path="/etc/cb2ac", read_only=True),
    k8s.V1VolumeMount(name="tmp", mount_path="/tmp"),
]
# param data_dir, else the Airflow Variable cb2ac_data_dir, else this bucket.
DATA_DIR = cb.data_dir_template("s3://my-bucket/cb2ac")
ENV = {"CB2AC_CONFIG": "/etc/cb2ac/cb2ac.yaml", "TMPDIR": "/tmp"}


def _resources(request, limit, cpu="1"):
    return k8s.V1ResourceRequirements(requests={"cpu": cpu, "memory": request}, limits={"memory": limit})


# Sized from bench/results.md at 1M customers (2026-12-04 20:51): validate peaks at
# about 0.7 GiB RSS, transform at 0.92 GiB and a nightly plan at 0.6 GiB (cb2ac's Go
# heap held near its 900 MiB soft limit), each using 1.4-1.9 CPUs for its wall time. No CPU limit: throttling only makes a stage slower. Load is the exception: a
# load at 1M was not measured (an earlier run saw a first sync's plan at 4077 MiB), so
# it may grow to 5 GiB, with GOMEMLIMIT telling Go's GC so.
STAGE_RESOURCES = _resources("1Gi", "1536Mi")
LOAD_RESOURCES = _resources("1Gi", "5Gi")
LOAD_ENV = dict(ENV, GOMEMLIMIT="4GiB")
CHECK_RESOURCES = _resources("64Mi", "256Mi", cpu="100m")


class Cb2acPodOperator(KubernetesPodOperator):
    """A KubernetesPodOperator for one cb2ac command: the image's entrypoint is cb2ac,
    arguments are its arguments. Exit 2 (records rejected) fails without retries; 75
    and every other failure are retried as usual. The provider reports a failed pod
    from cleanup(), which has the pod's final status, so the exit code is read there."""

    def __init__(self, *, task_id, arguments, container_resources=STAGE_RESOURCES, env_vars=ENV, **kw):
        super().__init__(
            task_id=task_id,
            name="cb2ac-" + task_id.replace("_", "-"),
            namespace=NAMESPACE,
            image=IMAGE,
            arguments=arguments,
            env_vars=env_vars,
            env_from=CLOUD_CREDENTIALS,
            secrets=SECRETS,
            volumes=VOLUMES,
            volume_mounts=VOLUME_MOUNTS,
            container_resources=container_resources,
            service_account_name=SERVICE_ACCOUNT,
            security_context=k8s.V1PodSecurityContext(
                run_as_non_root=True,
                run_as_user=IMAGE_UID,
                run_as_group=IMAGE_UID,
                fs_group=IMAGE_UID,
                seccomp_profile=k8s.V1SeccompProfile(type="RuntimeDefault"),
            ),
            container_security_context=k8s.V1SecurityContext(
                allow_privilege_escalation=False,
                read_only_root_filesystem=True,
                capabilities=k8s.V1Capabilities(drop=["ALL"]),
            ),
            get_logs=True,
            on_finish_action="delete_pod",
            **kw,
        )
        self._context = None

    def cleanup(self, pod, remote_pod, *args, **kwargs):
        try:
            return super().cleanup(pod, remote_pod, *args, **kwargs)
        except AirflowSkipException:
            raise
        except AirflowException as err:
            cb.fail_if_rejected(_exit_code(remote_pod, self.base_container_name), err, kwargs.get("context") or self._context)
            raise

    def execute(self, context):
        # cleanup() is not handed the context by every provider version.
        self._context = context
        return super().execute(context)


def _exit_code(remote_pod, container):
    status = getattr(remote_pod, "status", None)
    for c in getattr(status, "container_statuses", None) or []:
        if c.name == container and c.state is not None and c.state.terminated is not None:
            return c.state.terminated.exit_code
    return None


def stage(*args):
    """A stage command's arguments: the run, the data dir, JSON logs, then the stage."""
    return ["--data-dir", DATA_DIR, "--run-id", cb.RUN_ID_TEMPLATE, "--log-format", "json"] + list(args)


with DAG(
    dag_id="cb2ac_k8s",
    description="Sync Chargebee customers and subscriptions to ActiveCampaign, one pod per stage",
    schedule=cb.SCHEDULE,
    start_date=datetime(2026, 11, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=cb.DAGRUN_TIMEOUT,
    default_args=cb.DEFAULT_ARGS,
    params={
        "data_dir": "",
        "backfill_from": "",
    },
    tags=["cb2ac", "chargebee", "activecampaign"],
) as dag:
    check = Cb2acPodOperator(
        task_id="check",
        arguments=["--data-dir", DATA_DIR, "--log-format", "json", "check", "--source", cb.CHECK_SOURCE_TEMPLATE],
        container_resources=CHECK_RESOURCES,
        **cb.CHECK_ARGS,
    )
    start = BranchPythonOperator(task_id="start", python_callable=cb.start, **cb.START_ARGS)

    extract = Cb2acPodOperator(task_id="extract", arguments=stage("extract", "--source", "chargebee"))
    validate = Cb2acPodOperator(task_id="validate", arguments=stage("validate"))
    validate_backfill = Cb2acPodOperator(
        task_id="validate_backfill",
        arguments=stage("validate", "--in", "{{ params.backfill_from }}"),
    )
    transform = Cb2acPodOperator(
        task_id="transform",
        arguments=stage("transform"),
        trigger_rule="none_failed_min_one_success",
    )
    # A load that died half way continues where its journal stopped.
    load = Cb2acPodOperator(
        task_id="load",
        arguments=stage("load", "--resume", *(["--yes=" + cb.YES_TEMPLATE] if cb.LOAD_TAKES_YES else [])),
        container_resources=LOAD_RESOURCES,
        env_vars=LOAD_ENV,
    )

    check >> start >> [extract, validate_backfill]
    extract >> validate >> transform
    validate_backfill >> transform
    transform >> load
