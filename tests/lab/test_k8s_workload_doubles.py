"""The workload doubles of the lab: kube-scheduler (kube_scheduler.py), the Job controller and the
garbage collector of Jobs' Pods (job_controller.py, in the kube-controller-manager double) and the
kubelet's pod worker (kubelet_pods.py), against the API server double (a subprocess), each with
the credentials kubeadm gives it (system:kube-scheduler, system:kube-controller-manager,
system:node:<node>). The controllers' sync() is called in-process, pass by pass; one test runs the
scheduler double from a kubeadm-like static Pod manifest's command line.
"""
import argparse
import ipaddress
import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from labtest import free_port, issue_cert, kubeconfig, to_pem, write_file, x509_name

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.join(ROOT, 'lab', 'sim-packages', 'kubelet', 'usr', 'lib', 'aifabric-sim')
DOUBLE = os.path.join(ROOT, 'lab', 'simulators', 'kubeapi', 'kubeapi.py')
sys.path.insert(0, LIB)

import job_controller  # noqa: E402  pylint: disable=wrong-import-position
import kube_scheduler  # noqa: E402  pylint: disable=wrong-import-position
import kube_sim_client  # noqa: E402  pylint: disable=wrong-import-position
import kubelet  # noqa: E402  pylint: disable=wrong-import-position
import kubelet_pods  # noqa: E402  pylint: disable=wrong-import-position

GPU_TAINT = {'key': 'nvidia.com/gpu', 'value': 'present', 'effect': 'NoSchedule'}
NAD_CONFIG = json.dumps({'cniVersion': '0.3.1', 'name': 'rdma-net', 'type': 'macvlan', 'master': 'ens1f0np0',
                         'ipam': {'type': 'whereabouts', 'range': '192.168.100.0/24', 'range_start': '192.168.100.10'}})


class Api(object):
    def __init__(self, tmp):
        self.tmp, self.port = tmp, free_port()
        self.server = 'https://127.0.0.1:%d' % self.port
        ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca, self.ca_key = issue_cert(x509_name('kubernetes'), ca_key), ca_key
        self.ca_pem = to_pem(self.ca)
        key = ec.generate_private_key(ec.SECP256R1())
        write_file(tmp / 'ca.crt', self.ca_pem)
        write_file(tmp / 'server.crt', to_pem(issue_cert(x509_name('kube-apiserver'), key, self.ca, ca_key,
                                                         [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))], ExtendedKeyUsageOID.SERVER_AUTH)))
        write_file(tmp / 'server.key', to_pem(key=key))
        log = open(tmp / 'kubeapi.log', 'a')  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, DOUBLE, '--listen', '127.0.0.1:%d' % self.port, '--tls-cert', str(tmp / 'server.crt'), '--tls-key',
             str(tmp / 'server.key'), '--client-ca', str(tmp / 'ca.crt'), '--version', '1.34.2', '--state-dir', str(tmp / 'state')],
            stdout=subprocess.PIPE, stderr=log, text=True)
        log.close()
        line = self.proc.stdout.readline()
        assert 'listening on' in line, line + (tmp / 'kubeapi.log').read_text()
        self.admin = self.client('kubernetes-admin', ['kubeadm:cluster-admins'])
        self.scheduler = self.client('system:kube-scheduler')
        self.kcm = self.client('system:kube-controller-manager')

    def creds(self, cn, orgs=()):
        key = ec.generate_private_key(ec.SECP256R1())
        return to_pem(issue_cert(x509_name(cn, list(orgs)), key, self.ca, self.ca_key, None, ExtendedKeyUsageOID.CLIENT_AUTH)), to_pem(key=key)

    def client(self, cn, orgs=()):
        return kube_sim_client.Client(self.server, self.ca_pem.decode(), *self.creds(cn, orgs))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()

    def node(self, name, gpus=0, rdma=0, taints=(), ready='True', unschedulable=False):
        alloc = {'cpu': '8', 'memory': '32Gi', 'pods': '110'}
        if gpus is not None:
            alloc['nvidia.com/gpu'] = str(gpus)
        if rdma:
            alloc['rdma/rdma_shared_device_a'] = str(rdma)
        spec = {'taints': list(taints)} if taints else {}
        if unschedulable:
            spec['unschedulable'] = True
        self.admin.request('POST', '/api/v1/nodes', {
            'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': name, 'labels': {'kubernetes.io/hostname': name}}, 'spec': spec,
            'status': {'capacity': dict(alloc), 'allocatable': alloc,
                       'addresses': [{'type': 'InternalIP', 'address': '10.0.0.%d' % (len(name) + 10)}],
                       'conditions': [{'type': 'Ready', 'status': ready, 'reason': 'KubeletReady'}]}})
        return kubelet_pods.Pods(self.client('system:node:' + name, ['system:nodes']), name, '10.0.0.%d' % (len(name) + 10))

    def pod(self, name, node=None, gpus=1, tolerate=True, ns='default', annotations=None, rdma=0):
        limits = {'nvidia.com/gpu': gpus} if gpus else {}
        if rdma:
            limits['rdma/rdma_shared_device_a'] = rdma
        spec = {'restartPolicy': 'Never', 'containers': [{'name': 'smoke', 'image': 'nvcr.io/nvidia/cuda:13.0.0-base-ubuntu24.04',
                                                          'command': ['nvidia-smi', '-L'], 'resources': {'limits': limits}}]}
        if node:
            spec['nodeSelector'] = {'kubernetes.io/hostname': node}
        if tolerate:
            spec['tolerations'] = [{'key': 'nvidia.com/gpu', 'operator': 'Exists', 'effect': 'NoSchedule'}]
        return self.admin.request('POST', '/api/v1/namespaces/%s/pods' % ns, {
            'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': name, 'annotations': annotations or {}}, 'spec': spec})

    def get(self, path):
        return self.admin.get(path)

    def events(self, ns='default', reason=None):
        return [e for e in self.get('/api/v1/namespaces/%s/events' % ns)['items'] if reason is None or e['reason'] == reason]


@pytest.fixture
def api(tmp_path):
    server = Api(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def _sched(api):
    kube_scheduler.Scheduler(api.scheduler).sync()


def _scheduled(pod):
    return [c for c in pod['status'].get('conditions', []) if c['type'] == 'PodScheduled']


def _pod(api, name, ns='default'):
    return api.get('/api/v1/namespaces/%s/pods/%s' % (ns, name))


# ---- kube-scheduler ---------------------------------------------------------------------------------------

def test_scheduler_binds_to_the_node_with_the_gpu(api):
    api.node('cpu1', gpus=None)
    api.node('gpu1', gpus=8, taints=[GPU_TAINT])
    api.pod('p1')
    _sched(api)
    pod = _pod(api, 'p1')
    assert pod['spec']['nodeName'] == 'gpu1'
    assert [(c['status'], c.get('reason')) for c in _scheduled(pod)] == [('True', None)]
    assert [e['message'] for e in api.events(reason='Scheduled')] == ['Successfully assigned default/p1 to gpu1']
    # requests already bound count: 8 GPUs, a pod asking for 8 more does not fit
    api.pod('p2', gpus=8)
    _sched(api)
    pod = _pod(api, 'p2')
    assert 'nodeName' not in pod['spec']
    assert _scheduled(pod)[0]['message'] == ('0/2 nodes are available: 2 Insufficient nvidia.com/gpu. preemption: 0/2 nodes are '
                                             'available: 2 No preemption victims found for incoming pod.')


def test_scheduler_unschedulable_messages(api):
    api.node('cpu1', gpus=None)
    api.node('cpu2', gpus=None)
    api.node('gpu1', gpus=8, taints=[GPU_TAINT])
    api.node('gpu2', gpus=8, taints=[GPU_TAINT], unschedulable=True)
    api.node('gpu3', gpus=0, taints=[GPU_TAINT])
    # lacks the resource
    api.pod('lacks', node='gpu3')
    # cordoned
    api.pod('cordoned', node='gpu2')
    # taint not tolerated
    api.pod('untolerated', node='gpu1', tolerate=False)
    # more than any node has
    api.pod('big', gpus=9)
    _sched(api)
    msg = dict((n, _scheduled(_pod(api, n))[0]) for n in ('lacks', 'cordoned', 'untolerated', 'big'))
    assert all(c['status'] == 'False' and c['reason'] == 'Unschedulable' for c in msg.values())
    assert msg['lacks']['message'] == (
        "0/5 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) were unschedulable, 3 node(s) didn't match Pod's node "
        "affinity/selector. preemption: 0/5 nodes are available: 1 No preemption victims found for incoming pod, "
        "4 Preemption is not helpful for scheduling.")
    assert msg['cordoned']['message'] == (
        "0/5 nodes are available: 1 node(s) were unschedulable, 4 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.")
    assert msg['untolerated']['message'] == (
        "0/5 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector, "
        "2 node(s) had untolerated taint {nvidia.com/gpu: present}. preemption: 0/5 nodes are available: "
        "5 Preemption is not helpful for scheduling.")
    assert msg['big']['message'] == (
        "0/5 nodes are available: 1 node(s) were unschedulable, 4 Insufficient nvidia.com/gpu. preemption: 0/5 nodes are "
        "available: 1 Preemption is not helpful for scheduling, 4 No preemption victims found for incoming pod.")
    # written once: a second pass with the same result changes nothing
    rv = _pod(api, 'lacks')['metadata']['resourceVersion']
    _sched(api)
    assert _pod(api, 'lacks')['metadata']['resourceVersion'] == rv
    assert len([e for e in api.events(reason='FailedScheduling') if e['involvedObject']['name'] == 'lacks']) == 1
    # uncordon: it binds
    api.admin.request('PATCH', '/api/v1/nodes/gpu2', {'spec': {'unschedulable': None}}, 'application/merge-patch+json')
    _sched(api)
    assert _pod(api, 'cordoned')['spec']['nodeName'] == 'gpu2'
    # a NotReady node counts as tainted node.kubernetes.io/not-ready
    api.node('gpu4', gpus=8, taints=[GPU_TAINT], ready='False')
    api.pod('notready', node='gpu4')
    _sched(api)
    assert 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }' in _scheduled(_pod(api, 'notready'))[0]['message']


def test_binding_subresource(api):
    api.node('gpu1', gpus=8)
    api.pod('p1', tolerate=False)
    binding = {'apiVersion': 'v1', 'kind': 'Binding', 'metadata': {'name': 'p1'}, 'target': {'apiVersion': 'v1', 'kind': 'Node', 'name': 'gpu1'}}
    out = api.scheduler.request('POST', '/api/v1/namespaces/default/pods/p1/binding', binding)
    assert out == {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Success', 'code': 201}
    pod = _pod(api, 'p1')
    assert pod['spec']['nodeName'] == 'gpu1' and _scheduled(pod)[0]['status'] == 'True'
    with pytest.raises(kube_sim_client.ApiError) as err:
        api.scheduler.request('POST', '/api/v1/namespaces/default/pods/p1/binding', binding)
    assert err.value.code == 409 and err.value.status['reason'] == 'Conflict'
    assert err.value.status['message'] == 'Operation cannot be fulfilled on pods/binding "p1": pod p1 is already assigned to node "gpu1"'
    with pytest.raises(kube_sim_client.ApiError) as err:
        api.scheduler.request('POST', '/api/v1/namespaces/default/pods/nope/binding', dict(binding, metadata={'name': 'nope'}))
    assert err.value.code == 404
    resources = api.get('/api/v1')['resources']
    assert {'name': 'pods/binding', 'singularName': '', 'namespaced': True, 'kind': 'Binding', 'verbs': ['create']} in resources
    # NodeRestriction: another node may not write its status
    other = api.client('system:node:gpu2', ['system:nodes'])
    with pytest.raises(kube_sim_client.ApiError) as err:
        other.request('PATCH', '/api/v1/namespaces/default/pods/p1/status', {'status': {'phase': 'Running'}}, 'application/merge-patch+json')
    assert err.value.code == 403


def test_scheduler_runs_from_the_static_pod_manifest(api, tmp_path):
    manifest = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'kube-scheduler', 'namespace': 'kube-system'},
                'spec': {'containers': [{'name': 'kube-scheduler', 'image': 'registry.k8s.io/kube-scheduler:v1.34.2', 'command': [
                    'kube-scheduler', '--authentication-kubeconfig=/etc/kubernetes/scheduler.conf',
                    '--authorization-kubeconfig=/etc/kubernetes/scheduler.conf', '--bind-address=127.0.0.1',
                    '--kubeconfig=/etc/kubernetes/scheduler.conf', '--leader-elect=true']}]}}
    cmd = kubelet.static_command(manifest)
    assert cmd[1] == os.path.join(LIB, 'kube_scheduler.py') and cmd[2:] == manifest['spec']['containers'][0]['command'][1:]
    write_file(tmp_path / 'root/etc/kubernetes/scheduler.conf', kubeconfig(api.server, api.ca_pem, *api.creds('system:kube-scheduler'),
                                                                           user='system:kube-scheduler'), 0o600)
    api.node('gpu1', gpus=8)
    api.pod('p1', tolerate=False)
    env = dict(os.environ, AIFABRIC_SIM_ROOT=str(tmp_path / 'root'))
    with open(tmp_path / 'scheduler.log', 'w') as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=env)  # pylint: disable=consider-using-with
    try:
        deadline = time.time() + 15
        while time.time() < deadline and not _pod(api, 'p1')['spec'].get('nodeName'):
            time.sleep(0.3)
        assert _pod(api, 'p1')['spec'].get('nodeName') == 'gpu1', (tmp_path / 'scheduler.log').read_text()
    finally:
        proc.terminate()
        proc.wait(10)
    assert 'Successfully bound pod to node' in (tmp_path / 'scheduler.log').read_text()


# ---- the kubelet's pods, the Job controller ------------------------------------------------------------

def _job(api, name, node, backoff=0, deadline=600, annotations=None, rdma=0):
    limits = {'nvidia.com/gpu': 1}
    if rdma:
        limits['rdma/rdma_shared_device_a'] = 1
    return api.admin.request('POST', '/apis/batch/v1/namespaces/default/jobs', {
        'apiVersion': 'batch/v1', 'kind': 'Job', 'metadata': {'name': name},
        'spec': {'backoffLimit': backoff, 'activeDeadlineSeconds': deadline, 'template': {
            'metadata': {'labels': {'app': 'gpu-smoke'}, 'annotations': annotations or {}},
            'spec': {'restartPolicy': 'Never', 'nodeSelector': {'kubernetes.io/hostname': node},
                     'tolerations': [{'key': 'nvidia.com/gpu', 'operator': 'Exists', 'effect': 'NoSchedule'}],
                     'containers': [{'name': 'smoke', 'image': 'nvcr.io/nvidia/cuda:13.0.0-base-ubuntu24.04', 'command': ['nvidia-smi'],
                                     'resources': {'limits': limits}}]}}}})


def _job_pods(api, name):
    return api.get('/api/v1/namespaces/default/pods?labelSelector=batch.kubernetes.io/job-name%3D' + name)['items']


def _conditions(job):
    return [(c['type'], c['status'], c.get('reason')) for c in job['status'].get('conditions', [])]


def _pass(api, kubelets, jobs):
    jobs.sync()
    _sched(api)
    for k in kubelets:
        k.sync()


def test_job_completes(api):
    gpu1 = api.node('gpu1', gpus=8, taints=[GPU_TAINT])
    jobs = job_controller.JobController(api.kcm)
    _job(api, 'smoke-gpu1', 'gpu1')
    _pass(api, [gpu1], jobs)
    pods = _job_pods(api, 'smoke-gpu1')
    assert len(pods) == 1
    pod = pods[0]
    job = api.get('/apis/batch/v1/namespaces/default/jobs/smoke-gpu1')
    assert pod['metadata']['name'].startswith('smoke-gpu1-') and len(pod['metadata']['name']) == len('smoke-gpu1-') + 5
    labels = pod['metadata']['labels']
    assert labels['batch.kubernetes.io/controller-uid'] == labels['controller-uid'] == job['metadata']['uid']
    assert labels['job-name'] == 'smoke-gpu1' and labels['app'] == 'gpu-smoke'
    assert pod['metadata']['ownerReferences'] == [{'apiVersion': 'batch/v1', 'kind': 'Job', 'name': 'smoke-gpu1', 'uid': job['metadata']['uid'],
                                                   'controller': True, 'blockOwnerDeletion': True}]
    assert pod['spec']['nodeName'] == 'gpu1' and pod['status']['phase'] == 'Running'
    assert pod['status']['containerStatuses'][0]['state']['running'] and pod['status']['podIP'] == gpu1.ip
    jobs.sync()
    job = api.get('/apis/batch/v1/namespaces/default/jobs/smoke-gpu1')
    assert job['status']['active'] == 1 and job['status']['ready'] == 1 and job['status']['startTime']
    time.sleep(2.1)
    _pass(api, [gpu1], jobs)
    pod = _job_pods(api, 'smoke-gpu1')[0]
    assert pod['status']['phase'] == 'Succeeded'
    term = pod['status']['containerStatuses'][0]['state']['terminated']
    assert term['exitCode'] == 0 and term['reason'] == 'Completed'
    jobs.sync()
    job = api.get('/apis/batch/v1/namespaces/default/jobs/smoke-gpu1')
    assert _conditions(job) == [('SuccessCriteriaMet', 'True', 'CompletionsReached'), ('Complete', 'True', 'CompletionsReached')]
    assert job['status']['succeeded'] == 1 and 'active' not in job['status'] and job['status']['completionTime']
    assert [c['message'] for c in job['status']['conditions']] == ['Reached expected number of succeeded pods'] * 2
    rv = job['metadata']['resourceVersion']
    _pass(api, [gpu1], jobs)
    assert api.get('/apis/batch/v1/namespaces/default/jobs/smoke-gpu1')['metadata']['resourceVersion'] == rv
    assert len(_job_pods(api, 'smoke-gpu1')) == 1

    # deleted with propagationPolicy Background: the garbage collector deletes its pod
    api.admin.request('DELETE', '/apis/batch/v1/namespaces/default/jobs/smoke-gpu1', {'propagationPolicy': 'Background'})
    assert len(_job_pods(api, 'smoke-gpu1')) == 1
    jobs.sync()
    assert _job_pods(api, 'smoke-gpu1') == []


def test_job_deletion_propagation(api):
    gpu1 = api.node('gpu1', gpus=8, taints=[GPU_TAINT])
    jobs = job_controller.JobController(api.kcm)
    for name in ('fg', 'orphan', 'default'):
        _job(api, name, 'gpu1')
    _pass(api, [gpu1], jobs)
    # Foreground: the Job stays (deletionTimestamp, finalizer) until the pod is gone
    api.admin.request('DELETE', '/apis/batch/v1/namespaces/default/jobs/fg', {'propagationPolicy': 'Foreground'})
    job = api.get('/apis/batch/v1/namespaces/default/jobs/fg')
    assert job['metadata']['deletionTimestamp'] and job['metadata']['finalizers'] == ['foregroundDeletion']
    jobs.sync()
    assert _job_pods(api, 'fg') == []
    jobs.sync()
    with pytest.raises(kube_sim_client.ApiError):
        api.get('/apis/batch/v1/namespaces/default/jobs/fg')
    # Orphan, and no policy at all (batch/v1 Jobs orphan by default, with the real warning)
    api.admin.request('DELETE', '/apis/batch/v1/namespaces/default/jobs/orphan', {'propagationPolicy': 'Orphan'})
    req = urllib.request.Request(api.server + '/apis/batch/v1/namespaces/default/jobs/default', method='DELETE')
    with urllib.request.urlopen(req, context=api.admin.ctx, timeout=10) as resp:
        assert 'child pods are preserved by default when jobs are deleted' in resp.headers['Warning']
    jobs.sync()
    for name in ('orphan', 'default'):
        pods = _job_pods(api, name)
        assert len(pods) == 1 and 'ownerReferences' not in pods[0]['metadata']


def test_job_backoff_limit_failure(api):
    gpu1 = api.node('gpu1', gpus=8, taints=[GPU_TAINT])
    jobs = job_controller.JobController(api.kcm)
    _job(api, 'fails', 'gpu1', annotations={'aifabric.io/sim-exit-code': '2'})
    _pass(api, [gpu1], jobs)
    time.sleep(2.1)
    _pass(api, [gpu1], jobs)
    pod = _job_pods(api, 'fails')[0]
    assert pod['status']['phase'] == 'Failed'
    assert pod['status']['containerStatuses'][0]['state']['terminated']['exitCode'] == 2
    jobs.sync()
    job = api.get('/apis/batch/v1/namespaces/default/jobs/fails')
    assert _conditions(job) == [('FailureTarget', 'True', 'BackoffLimitExceeded'), ('Failed', 'True', 'BackoffLimitExceeded')]
    assert job['status']['conditions'][1]['message'] == 'Job has reached the specified backoff limit'
    assert job['status']['failed'] == 1 and 'completionTime' not in job['status']
    jobs.sync()
    assert len(_job_pods(api, 'fails')) == 1  # no retry


def test_job_admission_failure_and_deadline(api):
    gpu1 = api.node('gpu1', gpus=8, taints=[GPU_TAINT])
    jobs = job_controller.JobController(api.kcm)
    # the device plugin lost the GPUs after the scheduler bound the pod: the kubelet rejects it
    _job(api, 'rejected', 'gpu1')
    jobs.sync()
    _sched(api)
    api.admin.request('PATCH', '/api/v1/nodes/gpu1/status', {'status': {'allocatable': {'nvidia.com/gpu': '0'}}},
                      'application/strategic-merge-patch+json')
    gpu1.sync()
    pod = _job_pods(api, 'rejected')[0]
    assert pod['status']['phase'] == 'Failed' and pod['status']['reason'] == 'UnexpectedAdmissionError'
    assert pod['status']['message'] == ('Pod was rejected: Allocate failed due to no healthy devices present; cannot allocate unhealthy '
                                        'devices nvidia.com/gpu, which is unexpected')
    jobs.sync()
    assert _conditions(api.get('/apis/batch/v1/namespaces/default/jobs/rejected'))[-1] == ('Failed', 'True', 'BackoffLimitExceeded')
    # no GPU left: the pod stays Pending; the deadline fails the Job and deletes the pod
    _job(api, 'late', 'gpu1', deadline=2)
    _pass(api, [gpu1], jobs)
    pod = _job_pods(api, 'late')[0]
    assert pod['status']['phase'] == 'Pending' and 'Insufficient nvidia.com/gpu' in _scheduled(pod)[0]['message']
    time.sleep(2.1)
    jobs.sync()
    job = api.get('/apis/batch/v1/namespaces/default/jobs/late')
    assert _conditions(job) == [('FailureTarget', 'True', 'DeadlineExceeded'), ('Failed', 'True', 'DeadlineExceeded')]
    assert job['status']['conditions'][1]['message'] == 'Job was active longer than specified deadline'
    assert _job_pods(api, 'late') == []


def test_multus_network_attachment(api):
    fabric = api.node('gpu1', gpus=8, rdma=63, taints=[GPU_TAINT])
    jobs = job_controller.JobController(api.kcm)
    annotations = {'k8s.v1.cni.cncf.io/networks': 'default/rdma-net'}
    _job(api, 'rdma', 'gpu1', annotations=annotations, rdma=1)
    for _i in range(2):
        _pass(api, [fabric], jobs)
    pod = _job_pods(api, 'rdma')[0]
    assert pod['spec']['nodeName'] == 'gpu1' and pod['status']['phase'] == 'Pending'
    assert pod['status']['containerStatuses'][0]['state'] == {'waiting': {'reason': 'ContainerCreating'}}
    events = [e for e in api.events(reason='FailedCreatePodSandBox') if e['involvedObject']['name'] == pod['metadata']['name']]
    assert len(events) == 1 and events[0]['type'] == 'Warning' and events[0]['source'] == {'component': 'kubelet', 'host': 'gpu1'}
    assert events[0]['message'].endswith('cannot find a network-attachment-definition (rdma-net) in namespace (default): '
                                         'network-attachment-definitions.k8s.cni.cncf.io "rdma-net" not found')
    # the NAD appears: the pod starts, with the network-status annotation
    api.admin.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
        'metadata': {'name': 'network-attachment-definitions.k8s.cni.cncf.io'},
        'spec': {'group': 'k8s.cni.cncf.io', 'scope': 'Namespaced', 'names': {
            'plural': 'network-attachment-definitions', 'singular': 'network-attachment-definition', 'kind': 'NetworkAttachmentDefinition',
            'shortNames': ['net-attach-def']}, 'versions': [{'name': 'v1', 'served': True, 'storage': True}]}})
    api.admin.request('POST', '/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions', {
        'apiVersion': 'k8s.cni.cncf.io/v1', 'kind': 'NetworkAttachmentDefinition', 'metadata': {'name': 'rdma-net'},
        'spec': {'config': NAD_CONFIG}})
    api.pod('second', node='gpu1', annotations=annotations, rdma=1)
    _pass(api, [fabric], jobs)
    _pass(api, [fabric], jobs)
    pod = _job_pods(api, 'rdma')[0]
    assert pod['status']['phase'] == 'Running'
    status = json.loads(pod['metadata']['annotations']['k8s.v1.cni.cncf.io/network-status'])
    assert status[0]['default'] is True and status[0]['interface'] == 'eth0'
    assert status[1]['name'] == 'default/rdma-net' and status[1]['interface'] == 'net1'
    second = json.loads(_pod(api, 'second')['metadata']['annotations']['k8s.v1.cni.cncf.io/network-status'])
    assert sorted([status[1]['ips'][0], second[1]['ips'][0]]) == ['192.168.100.10', '192.168.100.11']


# ---- leader election of kube-controller-manager and kube-scheduler (several control planes) --------------

def _elector(api, cn, **durations):
    parser = argparse.ArgumentParser()
    kube_sim_client.leader_election_args(parser, 'kube-scheduler')
    flags = ['--leader-elect-%s=%s' % (k.replace('_', '-'), v) for k, v in durations.items()]
    return kube_sim_client.LeaderElector(api.client(cn), parser.parse_args(flags))


def test_leader_election_one_leader_takeover_and_release(api):
    """Two candidates for one Lease (two control planes' schedulers): one leads and the other waits; when the
    leader stops renewing, the other takes the Lease once it has expired (leaseTransitions 1) and the old leader
    no longer leads; a graceful stop releases the Lease, which the other then takes at once."""
    fast = dict(lease_duration='2s', renew_deadline='1500ms', retry_period='0s')
    one, two = _elector(api, 'system:kube-scheduler', **fast), _elector(api, 'system:kube-scheduler', **fast)
    path = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler'
    assert one.leading() and not two.leading() and one.leading()
    lease = api.get(path)['spec']
    assert (lease['holderIdentity'], lease['leaseDurationSeconds'], lease['leaseTransitions']) == (one.identity, 2, 0)
    assert one.identity.split('_')[0] and one.identity != two.identity
    time.sleep(1)
    assert not two.leading()  # the lease is still fresh
    time.sleep(1.5)  # one renews no more: its lease expires
    assert two.leading()
    lease = api.get(path)['spec']
    assert (lease['holderIdentity'], lease['leaseTransitions']) == (two.identity, 1)
    assert not one.leading()  # its renewal is refused, and its deadline has passed
    two.release()  # its process ends here
    assert api.get(path)['spec']['holderIdentity'] == ''
    assert one.leading()
    lease = api.get(path)['spec']
    assert (lease['holderIdentity'], lease['leaseTransitions']) == (one.identity, 2)


def test_leader_elect_flags():
    parser = argparse.ArgumentParser()
    kube_sim_client.leader_election_args(parser, 'kube-controller-manager')
    args = parser.parse_args(['--leader-elect=false'])
    named = (args.leader_elect, args.leader_elect_resource_name, args.leader_elect_resource_namespace)
    assert named == ('false', 'kube-controller-manager', 'kube-system')
    assert parser.parse_args([]).leader_elect == 'true' and parser.parse_args(['--leader-elect']).leader_elect == 'true'
    assert kube_sim_client.parse_duration('1500ms') == 1.5 and kube_sim_client.parse_duration('8760h0m0s') == 8760 * 3600
