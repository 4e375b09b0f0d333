"""The Job controller and the garbage collector of Jobs' Pods in the kube-controller-manager double
(aifabric lab, test-side only). JobController.sync() runs every second from kube_controller_manager.py:

  job               for every batch/v1 Job (not suspended, not finished): status.startTime; Pods from
                    spec.template (generateName "<job>-", labels batch.kubernetes.io/job-name, job-name,
                    batch.kubernetes.io/controller-uid, controller-uid, annotation
                    batch.kubernetes.io/job-tracking, ownerReference to the Job with controller and
                    blockOwnerDeletion true) up to min(parallelism, completions - succeeded), default 1/1;
                    status.active/ready/succeeded/failed/terminating/uncountedTerminatedPods. Finishing is
                    the 1.31+ two-step one: succeeded >= completions -> condition SuccessCriteriaMet (reason
                    CompletionsReached, "Reached expected number of succeeded pods"), then, once no Pod is
                    active, Complete with the same reason and message, and completionTime; failed >
                    backoffLimit (default 6) -> FailureTarget reason BackoffLimitExceeded ("Job has reached
                    the specified backoff limit"), active Pods deleted, then Failed with the same; running
                    longer than activeDeadlineSeconds since startTime -> FailureTarget reason
                    DeadlineExceeded ("Job was active longer than specified deadline"), active Pods
                    deleted, then Failed. A failed Pod under the backoff limit is replaced after
                    10 s * 2^(failures-1) (capped at 6 min). Events SuccessfulCreate, SuccessfulDelete,
                    Completed, BackoffLimitExceeded, DeadlineExceeded.
  garbagecollector  a Pod whose controlling Job is gone (deleted with propagationPolicy Background) is
                    deleted; the Pods of a Job being deleted in the foreground too, then the Job's
                    foregroundDeletion finalizer is removed (the API double keeps such a Job until then).
                    Orphaning is the API double's (it drops the ownerReferences at once).

Not modelled: the batch.kubernetes.io/job-tracking finalizer on Pods, Indexed completion, pod failure
and success policies, podReplacementPolicy, suspend/resume beyond skipping suspended Jobs, managedBy,
ttlSecondsAfterFinished (the ttl-after-finished controller), CronJobs, and garbage collection of
owners other than Jobs.
"""
import time

from kube_sim_client import ApiError, event, klog, parse_time, rfc3339, terminal, utcnow

JOBS = '/apis/batch/v1/jobs'
COMPLETIONS_MSG = 'Reached expected number of succeeded pods'
BACKOFF_MSG = 'Job has reached the specified backoff limit'
DEADLINE_MSG = 'Job was active longer than specified deadline'
COMPONENT = 'job-controller'


def owner_uid(obj, kind='Job'):
    for ref in obj['metadata'].get('ownerReferences') or []:
        if ref.get('controller') and ref.get('kind') == kind:
            return ref.get('uid')
    return None


def condition(ctype, reason, message, stamp):
    return {'type': ctype, 'status': 'True', 'reason': reason, 'message': message, 'lastProbeTime': stamp, 'lastTransitionTime': stamp}


def has(status, ctype):
    return any(c.get('type') == ctype and c.get('status') == 'True' for c in status.get('conditions') or [])


def ready(pod):
    return any(c.get('type') == 'Ready' and c.get('status') == 'True' for c in (pod.get('status') or {}).get('conditions') or [])


class JobController(object):
    def __init__(self, client, failed_at=None):
        self.client = client
        self.failed_at = {} if failed_at is None else failed_at  # job uid -> (failures seen, time of the last one): the pod backoff

    def sync(self, job_enabled=True, gc_enabled=True):
        jobs = self.client.get(JOBS).get('items') or []
        pods = self.client.get('/api/v1/pods').get('items') or []
        owned = {}
        for pod in pods:
            uid = owner_uid(pod)
            if uid:
                owned.setdefault(uid, []).append(pod)
        if gc_enabled:
            self.collect(jobs, owned)
        if job_enabled:
            for job in jobs:
                if job['metadata'].get('deletionTimestamp'):
                    continue
                try:
                    self.sync_job(job, [p for p in owned.get(job['metadata']['uid'], []) if not p['metadata'].get('deletionTimestamp')])
                except ApiError as err:
                    if err.code not in (404, 409):  # deleted or changed meanwhile: the next pass
                        raise

    # -- garbagecollector
    def collect(self, jobs, owned):
        by_uid = dict((j['metadata']['uid'], j) for j in jobs)
        for uid, pods in owned.items():
            job = by_uid.get(uid)
            foreground = job is not None and job['metadata'].get('deletionTimestamp') and 'foregroundDeletion' in (job['metadata'].get('finalizers') or [])
            if job is None or foreground:
                for pod in pods:
                    self.delete_pod(pod, None)
                    klog('I', 'garbagecollector.go:549', 'Deleting item', item='v1/Pod, namespace: %s, name: %s' % (
                        pod['metadata']['namespace'], pod['metadata']['name']), propagationPolicy='Background')
        for job in jobs:
            meta = job['metadata']
            if meta.get('deletionTimestamp') and 'foregroundDeletion' in (meta.get('finalizers') or []) and not owned.get(meta['uid']):
                rest = [f for f in meta['finalizers'] if f != 'foregroundDeletion']
                self.client.request('PATCH', '/apis/batch/v1/namespaces/%s/jobs/%s' % (meta['namespace'], meta['name']),
                                    {'metadata': {'finalizers': rest or None}}, 'application/merge-patch+json')

    def delete_pod(self, pod, job):
        meta = pod['metadata']
        try:
            self.client.request('DELETE', '/api/v1/namespaces/%s/pods/%s' % (meta['namespace'], meta['name']),
                                {'kind': 'DeleteOptions', 'apiVersion': 'v1', 'propagationPolicy': 'Background'})
        except ApiError as err:
            if err.code != 404:
                raise
            return
        if job is not None:
            event(self.client, job, 'Normal', 'SuccessfulDelete', 'Deleted pod: ' + meta['name'], COMPONENT)

    # -- job
    def sync_job(self, job, pods):  # noqa: C901
        meta, spec = job['metadata'], job.get('spec') or {}
        status = dict(job.get('status') or {})
        if has(status, 'Complete') or has(status, 'Failed') or spec.get('suspend'):
            return
        stamp = rfc3339()
        status.setdefault('startTime', stamp)
        active = [p for p in pods if not terminal(p)]
        succeeded = len([p for p in pods if (p.get('status') or {}).get('phase') == 'Succeeded'])
        failed = len([p for p in pods if (p.get('status') or {}).get('phase') == 'Failed'])
        completions = spec.get('completions', 1) if spec.get('completions', 1) is not None else 1
        parallelism = spec.get('parallelism', 1) if spec.get('parallelism', 1) is not None else 1
        backoff = spec.get('backoffLimit', 6) if spec.get('backoffLimit') is not None else 6
        conditions = list(status.get('conditions') or [])
        target = [c for c in conditions if c.get('type') in ('FailureTarget', 'SuccessCriteriaMet') and c.get('status') == 'True']
        if not target:
            started = parse_time(status['startTime'])
            deadline = spec.get('activeDeadlineSeconds')
            if deadline is not None and started is not None and (utcnow() - started).total_seconds() >= int(deadline):
                target = [condition('FailureTarget', 'DeadlineExceeded', DEADLINE_MSG, stamp)]
            elif failed > backoff:
                target = [condition('FailureTarget', 'BackoffLimitExceeded', BACKOFF_MSG, stamp)]
            elif succeeded >= completions:
                target = [condition('SuccessCriteriaMet', 'CompletionsReached', COMPLETIONS_MSG, stamp)]
            conditions += target
        if target and target[0]['type'] == 'FailureTarget':
            for pod in active:
                self.delete_pod(pod, job)
            active = []
        elif not target:
            active += self.create_pods(job, spec, min(parallelism, completions - succeeded) - len(active), failed)
        if target and not active:
            final = 'Complete' if target[0]['type'] == 'SuccessCriteriaMet' else 'Failed'
            conditions.append(condition(final, target[0]['reason'], target[0]['message'], stamp))
            if final == 'Complete':
                status['completionTime'] = stamp
                event(self.client, job, 'Normal', 'Completed', 'Job completed', COMPONENT)
            else:
                event(self.client, job, 'Warning', target[0]['reason'], target[0]['message'], COMPONENT)
            klog('I', 'job_controller.go:1029', 'Job finished', job='%s/%s' % (meta['namespace'], meta['name']), condition=final,
                 reason=target[0]['reason'])
        status.update(conditions=conditions or None, active=len(active) or None, ready=len([p for p in active if ready(p)]),
                      succeeded=succeeded or None, failed=failed or None, terminating=0, uncountedTerminatedPods={})
        status = dict((k, v) for k, v in status.items() if v is not None)
        if status != (job.get('status') or {}):
            self.client.request('PUT', '/apis/batch/v1/namespaces/%s/jobs/%s/status' % (meta['namespace'], meta['name']),
                                dict(job, status=status))

    def create_pods(self, job, spec, count, failed):
        if count <= 0:
            return []
        meta = job['metadata']
        if failed:
            seen, when = self.failed_at.get(meta['uid'], (0, 0.0))
            if seen != failed:
                self.failed_at[meta['uid']] = (failed, time.time())
                when = time.time()
            if time.time() - when < min(10 * 2 ** (failed - 1), 360):
                return []
        template = spec.get('template') or {}
        tmeta = template.get('metadata') or {}
        labels = dict(tmeta.get('labels') or {})
        labels.update({'batch.kubernetes.io/controller-uid': meta['uid'], 'batch.kubernetes.io/job-name': meta['name'],
                       'controller-uid': meta['uid'], 'job-name': meta['name']})
        annotations = dict(tmeta.get('annotations') or {}, **{'batch.kubernetes.io/job-tracking': ''})
        out = []
        for _i in range(count):
            pod = {'apiVersion': 'v1', 'kind': 'Pod',
                   'metadata': {'generateName': meta['name'] + '-', 'namespace': meta['namespace'], 'labels': labels,
                                'annotations': annotations,
                                'ownerReferences': [{'apiVersion': 'batch/v1', 'kind': 'Job', 'name': meta['name'], 'uid': meta['uid'],
                                                     'controller': True, 'blockOwnerDeletion': True}]},
                   'spec': dict(template.get('spec') or {})}
            pod['spec'].setdefault('restartPolicy', 'Never')
            made = self.client.request('POST', '/api/v1/namespaces/%s/pods' % meta['namespace'], pod)
            event(self.client, job, 'Normal', 'SuccessfulCreate', 'Created pod: ' + made['metadata']['name'], COMPONENT)
            klog('I', 'job_controller.go:1600', 'Created pod', job='%s/%s' % (meta['namespace'], meta['name']), pod=made['metadata']['name'])
            out.append(made)
        return out
