# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GPU smoke Jobs of the readiness check: one per GPU node, and their outcome as reasons.

Each Job runs one pod pinned to its node (``kubernetes.io/hostname``) that requests one GPU
and, on a fabric node, one unit of the RDMA shared device and the secondary network (the
Multus annotation), and tolerates the node's GPU taints. A Job that completes proves the
scheduler, the device plugins, the kubelet and the runtime together; one that stays Pending
or fails becomes a reason on its node with the scheduler's or the pod's own message.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

JOB_PREFIX = 'aifabric-gpu-smoke-'
NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks'
SMOKE_CODES = ('smoke_job_missing', 'smoke_job_failed', 'smoke_job_pending')


def job_name(node):
    return (JOB_PREFIX + node)[:63].rstrip('-.')


def smoke_jobs(expected, namespace, image, command, rdma_resource=None, network=None, deadline=300):
    """The Job of every node of expected ({node: {profile, rdma, taints}}), sorted by node."""
    jobs = []
    for node in sorted(expected):
        want = expected[node] or {}
        limits = {'nvidia.com/gpu': 1}
        annotations = {}
        if want.get('rdma') and rdma_resource:
            limits[rdma_resource] = 1
            if network:
                annotations[NETWORKS_ANNOTATION] = network
        tolerations = []
        for taint in want.get('taints') or []:
            fields = (('key', taint.get('key')), ('operator', 'Equal' if taint.get('value') else 'Exists'),
                      ('value', taint.get('value')), ('effect', taint.get('effect')))
            tolerations.append(dict((k, v) for k, v in fields if v))
        pod_meta = {'labels': {'app.kubernetes.io/name': 'aifabric-gpu-smoke', 'aifabric.io/node': node}}
        if annotations:
            pod_meta['annotations'] = annotations
        jobs.append({
            'apiVersion': 'batch/v1', 'kind': 'Job',
            'metadata': {'name': job_name(node), 'namespace': namespace,
                         'labels': {'app.kubernetes.io/name': 'aifabric-gpu-smoke', 'aifabric.io/node': node}},
            'spec': {'backoffLimit': 0, 'activeDeadlineSeconds': int(deadline), 'ttlSecondsAfterFinished': 3600,
                     'template': {'metadata': pod_meta,
                                  'spec': {'restartPolicy': 'Never', 'nodeSelector': {'kubernetes.io/hostname': node},
                                           'tolerations': tolerations,
                                           'containers': [{'name': 'smoke', 'image': image, 'command': list(command),
                                                           'resources': {'limits': limits}}]}}}})
    return jobs


def _condition(obj, ctype):
    for cond in ((obj or {}).get('status') or {}).get('conditions') or []:
        if cond.get('type') == ctype and cond.get('status') == 'True':
            return cond
    return None


def _pod_story(pods):
    """What the job's pod says about itself: the scheduler's message, a waiting or terminated reason."""
    for pod in pods:
        status = pod.get('status') or {}
        for cond in status.get('conditions') or []:
            if cond.get('type') == 'PodScheduled' and cond.get('status') == 'False':
                return 'not scheduled: %s' % (cond.get('message') or cond.get('reason') or 'no reason given')
        for cstatus in status.get('containerStatuses') or []:
            state = cstatus.get('state') or {}
            for key in ('waiting', 'terminated'):
                if state.get(key):
                    detail = state[key]
                    return '%s %s%s' % (key, detail.get('reason') or '', (': ' + detail['message']) if detail.get('message') else '')
        if status.get('reason') or status.get('message'):
            return '%s: %s' % (status.get('phase') or 'Pending', status.get('message') or status.get('reason'))
        return 'pod %s' % (status.get('phase') or 'Pending')
    return 'no pod created'


def smoke_verdicts(verdicts, jobs, pods):
    """verdicts (node_readiness's) with each node's smoke Job outcome: 'smoke' and, when it did not complete, a reason."""
    by_job = dict(((j.get('metadata') or {}).get('name'), j) for j in jobs or [])
    out = []
    for verdict in verdicts:
        verdict = dict(verdict, reasons=list(verdict.get('reasons') or []))
        node = verdict['node']
        name = job_name(node)
        job = by_job.get(name)
        mine = [p for p in pods or [] if ((p.get('metadata') or {}).get('labels') or {}).get('job-name') == name]
        if job is None:
            verdict['smoke'] = 'missing'
            verdict['reasons'].append({'code': 'smoke_job_missing', 'message': '%s: the smoke Job %s was not created '
                                       '(see the playbook output)' % (node, name)})
        elif _condition(job, 'Complete'):
            verdict['smoke'] = 'complete'
        elif _condition(job, 'Failed'):
            cond = _condition(job, 'Failed')
            verdict['smoke'] = 'failed'
            verdict['reasons'].append({'code': 'smoke_job_failed', 'message': '%s: the smoke Job %s failed (%s: %s; %s): '
                                       'the GPU pod could not run on the node - see kubectl describe pod -l job-name=%s'
                                       % (node, name, cond.get('reason'), cond.get('message') or '', _pod_story(mine), name)})
        else:
            verdict['smoke'] = 'pending'
            verdict['reasons'].append({'code': 'smoke_job_pending', 'message': '%s: the smoke Job %s did not complete in '
                                       'time (%s): a pod asking for one GPU%s cannot run there'
                                       % (node, name, _pod_story(mine),
                                          ' and the RDMA device and fabric network' if verdict.get('rdma_allocatable') is not None else '')})
        verdict['healthy'] = not verdict['reasons']
        out.append(verdict)
    return out
