"""The kubelet double's pod worker for the Pods the scheduler binds to its node (aifabric lab,
test-side only). NO IMAGE IS PULLED AND NO CONTAINER RUNS: the double only plays the status a
real kubelet would report. Every second (Pods.sync(), from kubelet.py), for each Pod with
spec.nodeName == this node that is not a mirror Pod, not being deleted, not finished and not one
the operands double manages (nvidia-operator-validator):

  admission   an extended resource (a name with a domain, e.g. nvidia.com/gpu, rdma/...) requested
              beyond what the node's status.allocatable has left after the other running pods on it
              -> phase Failed, reason UnexpectedAdmissionError, message "Pod was rejected: Allocate
              failed due to <err>, which is unexpected" with the device manager's <err>:
              "requested number of devices unavailable for R. Requested: N, Available: M",
              "no healthy devices present; cannot allocate unhealthy devices R" (allocatable 0),
              "cannot allocate unregistered device R" (not in allocatable); Event Warning
              UnexpectedAdmissionError. cpu and memory are not checked here.
  Multus      annotation k8s.v1.cni.cncf.io/networks ("name", "ns/name", "name@if", comma-separated,
              or the JSON list form) naming a NetworkAttachmentDefinition that does not exist ->
              the Pod stays Pending, containers waiting ContainerCreating, Event Warning
              FailedCreatePodSandBox with Multus's error; retried every pass, so creating the NAD
              lets it start. When every NAD exists: annotation k8s.v1.cni.cncf.io/network-status
              (the default network on eth0 with the pod IP, then net1, net2... with an address
              from the NAD's ipam range_start (or the first of `range`) upward, the lowest one no
              other live pod on this node holds for that NAD).
  running     phase Running, podIP/hostIP the node's IP (the lab has no pod network), conditions
              PodReadyToStartContainers, Initialized, Ready, ContainersReady, PodScheduled True,
              containerStatuses running.
  done        ~2 s after it started, with restartPolicy Never or OnFailure: phase Succeeded,
              containers terminated exitCode 0 reason Completed (Ready/ContainersReady False reason
              PodCompleted). The test-side annotation aifabric.io/sim-exit-code: "<n>" (n != 0)
              ends it Failed instead, reason Error, exitCode n. restartPolicy Always: stays Running.

Status goes through pods/status with the node's own credentials (NodeRestriction allows a node
the pods bound to it); the network-status annotation through the Pod itself (Multus's own
credentials on a real node).
"""
import hashlib
import ipaddress
import json

from kube_sim_client import ApiError, event, klog, parse_time, pod_requests, quantity, rfc3339, terminal, utcnow

NETWORKS = 'k8s.v1.cni.cncf.io/networks'
NETWORK_STATUS = 'k8s.v1.cni.cncf.io/network-status'
NADS = '/apis/k8s.cni.cncf.io/v1/namespaces/%s/network-attachment-definitions/%s'
EXIT_CODE = 'aifabric.io/sim-exit-code'
RUN_SECONDS = 2


def extended(name):
    """An extended resource: a domain-prefixed name outside kubernetes.io (hugepages-*, cpu, memory are not)."""
    domain = name.split('/', 1)[0] if '/' in name else ''
    return bool(domain) and not (domain == 'kubernetes.io' or domain.endswith('.kubernetes.io')) and not name.startswith('requests.')


def networks(pod):
    """[(namespace, name, interface or None)] of the Multus annotation."""
    text = ((pod['metadata'].get('annotations') or {}).get(NETWORKS) or '').strip()
    ns = pod['metadata']['namespace']
    if not text:
        return []
    if text.startswith('['):
        try:
            items = json.loads(text)
        except ValueError:
            return []
        return [(i.get('namespace') or ns, i.get('name'), i.get('interface')) for i in items if isinstance(i, dict) and i.get('name')]
    out = []
    for item in [t.strip() for t in text.split(',') if t.strip()]:
        item, _at, iface = item.partition('@')
        nad_ns, _sl, name = item.rpartition('/')
        out.append((nad_ns or ns, name, iface or None))
    return out


def mac(seed):
    digest = hashlib.sha256(seed.encode()).digest()
    return ':'.join('%02x' % b for b in (bytes([(digest[0] & 0xfe) | 0x02]) + digest[1:6]))


def range_start(nad):
    try:
        config = json.loads((nad.get('spec') or {}).get('config') or '{}')
    except ValueError:
        return None
    ipam = config.get('ipam') or {}
    if ipam.get('range_start'):
        return ipaddress.ip_address(ipam['range_start'])
    if ipam.get('range'):
        net = ipaddress.ip_network(ipam['range'].split('-')[0], strict=False)
        return net.network_address + 1
    return None


class Pods(object):
    def __init__(self, client, node, ip):
        self.client, self.node, self.ip = client, node, ip
        self.reported = set()  # (pod uid, reason) of the events sent

    def sync(self):
        pods = self.client.get('/api/v1/pods?fieldSelector=spec.nodeName%3D' + self.node).get('items') or []
        mine = [p for p in pods if not (p['metadata'].get('annotations') or {}).get('kubernetes.io/config.mirror')
                and (p['metadata'].get('labels') or {}).get('app') != 'nvidia-operator-validator']
        node = None  # read once a pod needs admission (its allocatable), not every second on an idle node
        for pod in sorted(mine, key=lambda p: p['metadata'].get('creationTimestamp') or ''):
            if pod['metadata'].get('deletionTimestamp') or terminal(pod):
                continue
            if node is None and (pod.get('status') or {}).get('phase') != 'Running':
                node = self.client.get('/api/v1/nodes/' + self.node)
            try:
                self.sync_pod(pod, node, mine)
            except ApiError as err:
                if err.code not in (404, 409):
                    raise

    def sync_pod(self, pod, node, pods):
        status = pod.get('status') or {}
        if status.get('phase') == 'Running':
            self.maybe_finish(pod)
            return
        refused = self.admit(pod, node, pods)
        if refused:
            self.reject(pod, refused)
            return
        missing = self.missing_networks(pod)
        if missing:
            self.sandbox_failed(pod, missing)
            return
        if networks(pod) and NETWORK_STATUS not in (pod['metadata'].get('annotations') or {}):
            pod = self.attach(pod, pods)
        pod = self.write(pod, self.running_status(pod))
        # later pods of this pass see this one's addresses and devices
        pods[:] = [pod if p['metadata']['uid'] == pod['metadata']['uid'] else p for p in pods]
        klog('I', 'kubelet.go:2543', 'SyncLoop (PLEG): event for pod', pod='%s/%s' % (pod['metadata']['namespace'], pod['metadata']['name']),
             event='ContainerStarted')

    # -- admission (the device manager's Allocate)
    def admit(self, pod, node, pods):
        alloc = (node.get('status') or {}).get('allocatable') or {}
        used = {}
        for other in pods:
            if other['metadata']['uid'] != pod['metadata']['uid'] and (other.get('status') or {}).get('phase') == 'Running':
                for name, amount in pod_requests(other).items():
                    used[name] = used.get(name, 0) + amount
        for name, amount in sorted(pod_requests(pod).items()):
            if not extended(name):
                continue
            if name not in alloc:
                return 'cannot allocate unregistered device %s' % name
            total = int(quantity(alloc[name]))
            if total == 0:
                return 'no healthy devices present; cannot allocate unhealthy devices %s' % name
            available = max(total - int(used.get(name, 0)), 0)
            if available < amount:
                return 'requested number of devices unavailable for %s. Requested: %d, Available: %d' % (name, int(amount), available)
        return None

    def reject(self, pod, err):
        message = 'Allocate failed due to %s, which is unexpected' % err
        event(self.client, pod, 'Warning', 'UnexpectedAdmissionError', message, 'kubelet', self.node)
        status = {'phase': 'Failed', 'reason': 'UnexpectedAdmissionError', 'message': 'Pod was rejected: ' + message,
                  'qosClass': qos(pod), 'startTime': rfc3339(),
                  'conditions': [c for c in (pod.get('status') or {}).get('conditions') or [] if c.get('type') == 'PodScheduled']}
        self.write(pod, status)
        klog('W', 'predicate.go:212', 'Failed to admit pod', pod='%s/%s' % (pod['metadata']['namespace'], pod['metadata']['name']),
             message=message)

    # -- Multus
    def missing_networks(self, pod):
        for nad_ns, name, _iface in networks(pod):
            if self.nad(nad_ns, name) is None:
                return nad_ns, name
        return None

    def nad(self, ns, name):
        try:
            return self.client.get_or_none(NADS % (ns, name))
        except ApiError as err:
            if err.code == 404:
                return None
            raise

    def sandbox_failed(self, pod, missing):
        meta = pod['metadata']
        sandbox = hashlib.sha256(meta['uid'].encode()).hexdigest()
        message = ('Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "%s": '
                   'plugin type="multus" name="multus-cni-network" failed (add): Multus: [%s/%s/%s]: error loading k8s delegates k8s '
                   'args: TryLoadPodDelegates: error in getting k8s network for pod: GetNetworkDelegates: failed getting the delegate: '
                   'getKubernetesDelegate: cannot find a network-attachment-definition (%s) in namespace (%s): '
                   'network-attachment-definitions.k8s.cni.cncf.io "%s" not found'
                   % (sandbox, meta['namespace'], meta['name'], meta['uid'], missing[1], missing[0], missing[1]))
        if (meta['uid'], 'FailedCreatePodSandBox') not in self.reported:
            self.reported.add((meta['uid'], 'FailedCreatePodSandBox'))
            event(self.client, pod, 'Warning', 'FailedCreatePodSandBox', message, 'kubelet', self.node)
            klog('E', 'pod_workers.go:1301', 'Error syncing pod, skipping', err=message, pod='%s/%s' % (meta['namespace'], meta['name']))
        stamp = (pod.get('status') or {}).get('startTime') or rfc3339()
        names = [c.get('name') for c in pod['spec'].get('containers') or []]
        status = self.base_status(pod, stamp, 'Pending')
        status['conditions'] = self.conditions(pod, stamp, sandbox=False, initialized=True, ready=False,
                                               why=('ContainersNotReady', 'containers with unready status: [%s]' % ' '.join(names)))
        status['containerStatuses'] = [{'name': c.get('name'), 'image': c.get('image'), 'imageID': '', 'ready': False, 'started': False,
                                        'restartCount': 0, 'state': {'waiting': {'reason': 'ContainerCreating'}}}
                                       for c in pod['spec'].get('containers') or []]
        old = pod.get('status') or {}
        if old.get('containerStatuses') != status['containerStatuses'] or old.get('phase') != 'Pending' or not old.get('hostIP'):
            self.write(pod, status)

    def attach(self, pod, pods):
        meta = pod['metadata']
        entries = [{'name': 'cbr0', 'interface': 'eth0', 'ips': [self.ip], 'mac': mac(meta['uid'] + 'eth0'), 'default': True, 'dns': {}}]
        for index, (nad_ns, name, iface) in enumerate(networks(pod), 1):
            key = '%s/%s' % (nad_ns, name)
            start = range_start(self.nad(nad_ns, name) or {})
            entry = {'name': key, 'interface': iface or 'net%d' % index, 'mac': mac(meta['uid'] + key), 'dns': {}}
            if start is not None:
                taken = set()
                for other in pods:
                    if other['metadata']['uid'] == meta['uid'] or terminal(other):
                        continue
                    try:
                        held = json.loads((other['metadata'].get('annotations') or {}).get(NETWORK_STATUS) or '[]')
                    except ValueError:
                        held = []
                    taken.update(ip for e in held if e.get('name') == key for ip in e.get('ips') or [])
                address = start
                while str(address) in taken:
                    address += 1
                entry['ips'] = [str(address)]
            entries.append(entry)
        text = json.dumps(entries, indent=4)
        return self.client.request('PATCH', '/api/v1/namespaces/%s/pods/%s' % (meta['namespace'], meta['name']),
                                   {'metadata': {'annotations': {NETWORK_STATUS: text}}}, 'application/merge-patch+json')

    # -- status
    def base_status(self, pod, stamp, phase):
        return {'phase': phase, 'hostIP': self.ip, 'hostIPs': [{'ip': self.ip}], 'qosClass': qos(pod), 'startTime': stamp}

    @staticmethod
    def conditions(pod, stamp, sandbox, initialized, ready, why=None):
        out = []
        for ctype, value in (('PodReadyToStartContainers', sandbox), ('Initialized', initialized), ('Ready', ready),
                             ('ContainersReady', ready), ('PodScheduled', True)):
            cond = {'type': ctype, 'status': 'True' if value else 'False', 'lastProbeTime': None, 'lastTransitionTime': stamp}
            if not value and why and ctype in ('Ready', 'ContainersReady'):
                cond.update(reason=why[0], message=why[1])
            if ctype == 'PodScheduled':
                old = [c for c in (pod.get('status') or {}).get('conditions') or [] if c.get('type') == 'PodScheduled']
                cond['lastTransitionTime'] = (old[0] if old else {}).get('lastTransitionTime') or stamp
            out.append(cond)
        return out

    def running_status(self, pod):
        stamp = rfc3339()
        status = self.base_status(pod, (pod.get('status') or {}).get('startTime') or stamp, 'Running')
        status.update(podIP=self.ip, podIPs=[{'ip': self.ip}])
        status['conditions'] = self.conditions(pod, stamp, True, True, True)
        status['containerStatuses'] = [{'name': c.get('name'), 'image': c.get('image'), 'imageID': '', 'ready': True, 'started': True,
                                        'restartCount': 0, 'containerID': container_id(pod, c),
                                        'state': {'running': {'startedAt': stamp}}} for c in pod['spec'].get('containers') or []]
        return status

    def maybe_finish(self, pod):
        status = pod.get('status') or {}
        if (pod.get('spec') or {}).get('restartPolicy', 'Always') == 'Always':
            return
        started = [parse_time(((c.get('state') or {}).get('running') or {}).get('startedAt')) for c in status.get('containerStatuses') or []]
        started = [s for s in started if s is not None]
        if started and (utcnow() - max(started)).total_seconds() < RUN_SECONDS:
            return
        code = (pod['metadata'].get('annotations') or {}).get(EXIT_CODE) or '0'
        code = int(code) if code.lstrip('-').isdigit() else 1
        stamp = rfc3339()
        new = dict(status, phase='Succeeded' if code == 0 else 'Failed')
        why = ('PodCompleted', '') if code == 0 else ('PodFailed', '')
        new['conditions'] = self.conditions(pod, stamp, False, True, False, why)
        for cond in new['conditions']:
            if cond['type'] == 'Initialized' and code == 0:
                cond['reason'] = 'PodCompleted'
            if cond.get('message') == '':
                del cond['message']
        new['containerStatuses'] = []
        for cstat in status.get('containerStatuses') or []:
            begun = ((cstat.get('state') or {}).get('running') or {}).get('startedAt') or stamp
            new['containerStatuses'].append(dict(cstat, ready=False, started=False, state={'terminated': {
                'exitCode': code, 'reason': 'Completed' if code == 0 else 'Error', 'startedAt': begun, 'finishedAt': stamp,
                'containerID': cstat.get('containerID')}}))
        self.write(pod, new)
        klog('I', 'kubelet.go:2543', 'SyncLoop (PLEG): event for pod', pod='%s/%s' % (pod['metadata']['namespace'], pod['metadata']['name']),
             event='ContainerDied')

    def write(self, pod, status):
        meta = pod['metadata']
        return self.client.request('PATCH', '/api/v1/namespaces/%s/pods/%s/status' % (meta['namespace'], meta['name']), {'status': status},
                                   'application/merge-patch+json')


def container_id(pod, container):
    return 'containerd://' + hashlib.sha256((pod['metadata']['uid'] + (container.get('name') or '')).encode()).hexdigest()


def qos(pod):
    """v1qos.GetPodQOS, simplified: Guaranteed when every container's cpu and memory limits equal their
    requests, BestEffort when nothing is requested, else Burstable."""
    containers = (pod.get('spec') or {}).get('containers') or []
    any_set, guaranteed = False, True
    for c in containers:
        res = c.get('resources') or {}
        limits, requests = res.get('limits') or {}, res.get('requests') or {}
        if any(n in limits or n in requests for n in ('cpu', 'memory')):
            any_set = True
        for name in ('cpu', 'memory'):
            if name not in limits or requests.get(name, limits[name]) != limits[name]:
                guaranteed = False
    if not any_set:
        return 'BestEffort'
    return 'Guaranteed' if guaranteed and containers else 'Burstable'
