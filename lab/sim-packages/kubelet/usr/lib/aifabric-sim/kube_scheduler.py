"""kube-scheduler 1.34.2 test double (aifabric lab, test-side only, never production).

Run by the kubelet double from kubeadm's static Pod manifest /etc/kubernetes/manifests/
kube-scheduler.yaml (its `command:` flags; --kubeconfig=/etc/kubernetes/scheduler.conf, user
system:kube-scheduler; the other flags are accepted and ignored). Every second it takes the Pods
with no spec.nodeName, schedulerName default-scheduler (or none) and no deletionTimestamp, and
runs the filters of the default profile that matter for the lab, in the real order, stopping at
a node's first failing plugin:

  NodeUnschedulable  spec.unschedulable, unless the pod tolerates node.kubernetes.io/unschedulable:NoSchedule
                     -> "node(s) were unschedulable"
  TaintToleration    NoSchedule/NoExecute taints against the pod's tolerations (Exists/Equal, empty key
                     with Exists, empty effect); a node whose Ready condition is False counts as tainted
                     node.kubernetes.io/not-ready:NoSchedule, Unknown or missing as
                     node.kubernetes.io/unreachable:NoSchedule (the node lifecycle controller's taints)
                     -> "node(s) had untolerated taint {key: value}"
  NodeAffinity       spec.nodeSelector and requiredDuringSchedulingIgnoredDuringExecution
                     (In, NotIn, Exists, DoesNotExist, Gt, Lt on labels)
                     -> "node(s) didn't match Pod's node affinity/selector"
  NodeResourcesFit   every resource the pod requests (a request defaults to its limit), cpu, memory and
                     extended resources alike, against status.allocatable minus the requests of the pods
                     bound to the node that are not Succeeded/Failed; the pod count against
                     allocatable pods -> "Insufficient nvidia.com/gpu", "Too many pods"

The pod is bound (POST pods/<name>/binding) to the first fitting node by name, with an Event
Scheduled "Successfully assigned <ns>/<pod> to <node>". When none fits, the pod's condition
PodScheduled False reason Unschedulable gets the FitError message of the real scheduler, e.g.

  0/5 nodes are available: 1 Insufficient nvidia.com/gpu, 4 node(s) didn't match Pod's node
  affinity/selector. preemption: 0/5 nodes are available: 1 No preemption victims found for
  incoming pod, 4 Preemption is not helpful for scheduling.

(reasons "<count> <reason>" sorted as strings; preemption: nodes failing only on resources have no
victims as every lab pod has priority 0, the others are "not helpful"), written (with an Event
FailedScheduling) only when it changes. With --leader-elect (the default, and kubeadm's
manifest) only the holder of the Lease kube-system/kube-scheduler schedules
(kube_sim_client.LeaderElector). No scoring, preemption, volumes, ports, pod
(anti-)affinity, topology spread or the secure port 10259.
"""
import argparse
import signal
import sys
import threading

from kube_sim_client import ApiError, Client, LeaderElector, event, klog, leader_election_args, pod_requests, quantity, rfc3339, terminal

VERSION = 'v1.34.2'
SCHEDULER = 'default-scheduler'
UNSCHEDULABLE = 'node(s) were unschedulable'
AFFINITY = "node(s) didn't match Pod's node affinity/selector"
NOT_HELPFUL = 'Preemption is not helpful for scheduling'
NO_VICTIMS = 'No preemption victims found for incoming pod'


def tolerates(toleration, taint):
    """k8s.io/api/core/v1 Toleration.ToleratesTaint."""
    if toleration.get('effect') and toleration['effect'] != taint.get('effect'):
        return False
    if toleration.get('key') and toleration['key'] != taint.get('key'):
        return False
    if not toleration.get('key') and toleration.get('operator') != 'Exists':
        return False
    if toleration.get('operator') == 'Exists':
        return True
    return (toleration.get('value') or '') == (taint.get('value') or '')


def node_taints(node):
    taints = list((node.get('spec') or {}).get('taints') or [])
    ready = [c.get('status') for c in (node.get('status') or {}).get('conditions') or [] if c.get('type') == 'Ready']
    keys = set(t.get('key') for t in taints)
    if ready == ['False'] and 'node.kubernetes.io/not-ready' not in keys:
        taints.append({'key': 'node.kubernetes.io/not-ready', 'effect': 'NoSchedule'})
    elif ready != ['True'] and ready != ['False'] and 'node.kubernetes.io/unreachable' not in keys:
        taints.append({'key': 'node.kubernetes.io/unreachable', 'effect': 'NoSchedule'})
    return taints


def expression_matches(expr, labels):
    key, op, values = expr.get('key'), expr.get('operator'), expr.get('values') or []
    if op == 'In':
        return key in labels and labels[key] in values
    if op == 'NotIn':
        return key not in labels or labels[key] not in values
    if op == 'Exists':
        return key in labels
    if op == 'DoesNotExist':
        return key not in labels
    if op in ('Gt', 'Lt') and key in labels and values:
        try:
            have, want = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > want if op == 'Gt' else have < want
    return False


def affinity_matches(pod, node):
    spec = pod.get('spec') or {}
    labels = node['metadata'].get('labels') or {}
    if any(labels.get(k) != v for k, v in (spec.get('nodeSelector') or {}).items()):
        return False
    required = (((spec.get('affinity') or {}).get('nodeAffinity') or {}).get('requiredDuringSchedulingIgnoredDuringExecution') or {})
    terms = required.get('nodeSelectorTerms')
    if terms:  # terms are ORed, expressions ANDed
        return any(all(expression_matches(e, labels) for e in term.get('matchExpressions') or []) for term in terms)
    return True


def filter_node(pod, node, used):
    """(reasons, resolvable) of the first failing plugin, ([], True) when the node fits."""
    spec = pod.get('spec') or {}
    tolerations = spec.get('tolerations') or []
    if (node.get('spec') or {}).get('unschedulable'):
        taint = {'key': 'node.kubernetes.io/unschedulable', 'effect': 'NoSchedule'}
        if not any(tolerates(t, taint) for t in tolerations):
            return [UNSCHEDULABLE], False
    for taint in node_taints(node):
        if taint.get('effect') not in ('NoSchedule', 'NoExecute'):
            continue
        if not any(tolerates(t, taint) for t in tolerations):
            return ['node(s) had untolerated taint {%s: %s}' % (taint.get('key'), taint.get('value') or '')], False
    if not affinity_matches(pod, node):
        return [AFFINITY], False
    alloc = (node.get('status') or {}).get('allocatable') or {}
    have = used.get(node['metadata']['name'], {})
    reasons = []
    if 'pods' in alloc and have.get('pods', 0) + 1 > quantity(alloc['pods']):
        reasons.append('Too many pods')
    for name, amount in sorted(pod_requests(pod).items()):
        if have.get(name, 0.0) + amount > quantity(alloc.get(name, '0')) + 1e-9:
            reasons.append('Insufficient ' + name)
    return reasons, True


def histogram(per_node):
    counts = {}
    for reasons in per_node:
        for reason in reasons:
            counts[reason] = counts.get(reason, 0) + 1
    return ', '.join(sorted('%d %s' % (n, r) for r, n in counts.items()))


def fit_error(total, failures):
    """The FitError message with the preemption PostFilter's, as the real scheduler writes it."""
    if not total:
        return 'no nodes available to schedule pods'
    message = '0/%d nodes are available: %s.' % (total, histogram([r for r, _ok in failures]))
    victims = [[NO_VICTIMS if resolvable else NOT_HELPFUL] for _r, resolvable in failures]
    return message + ' preemption: 0/%d nodes are available: %s.' % (total, histogram(victims))


class Scheduler(object):
    def __init__(self, client):
        self.client = client
        self.warned = set()

    def sync(self):
        nodes = sorted(self.client.get('/api/v1/nodes').get('items') or [], key=lambda n: n['metadata']['name'])
        pods = self.client.get('/api/v1/pods').get('items') or []
        used = {}
        for pod in pods:
            node = (pod.get('spec') or {}).get('nodeName')
            if node and not terminal(pod):
                acc = used.setdefault(node, {})
                for name, amount in pod_requests(pod).items():
                    acc[name] = acc.get(name, 0.0) + amount
                acc['pods'] = acc.get('pods', 0) + 1
        for pod in sorted(pods, key=lambda p: p['metadata'].get('creationTimestamp') or ''):
            spec = pod.get('spec') or {}
            if spec.get('nodeName') or pod['metadata'].get('deletionTimestamp') or terminal(pod):
                continue
            if (spec.get('schedulerName') or SCHEDULER) != SCHEDULER:
                continue
            self.schedule(pod, nodes, used)

    def schedule(self, pod, nodes, used):
        meta = pod['metadata']
        failures = []
        for node in nodes:
            reasons, resolvable = filter_node(pod, node, used)
            if not reasons:
                self.bind(pod, node['metadata']['name'], used)
                return
            failures.append((reasons, resolvable))
        message = fit_error(len(nodes), failures)
        old = [c for c in (pod.get('status') or {}).get('conditions') or [] if c.get('type') == 'PodScheduled']
        if old and old[0].get('status') == 'False' and old[0].get('message') == message:
            return
        condition = {'type': 'PodScheduled', 'status': 'False', 'reason': 'Unschedulable', 'message': message, 'lastProbeTime': None,
                     'lastTransitionTime': old[0].get('lastTransitionTime') if old and old[0].get('status') == 'False' else rfc3339()}
        self.client.request('PATCH', '/api/v1/namespaces/%s/pods/%s/status' % (meta['namespace'], meta['name']),
                            {'status': {'conditions': [condition]}}, 'application/strategic-merge-patch+json')
        event(self.client, pod, 'Warning', 'FailedScheduling', message, SCHEDULER)
        klog('I', 'schedule_one.go:1055', 'Unable to schedule pod; no fit; waiting', pod='%s/%s' % (meta['namespace'], meta['name']),
             err=message)

    def bind(self, pod, node, used):
        meta = pod['metadata']
        binding = {'apiVersion': 'v1', 'kind': 'Binding', 'metadata': {'name': meta['name'], 'namespace': meta['namespace'], 'uid': meta.get('uid')},
                   'target': {'apiVersion': 'v1', 'kind': 'Node', 'name': node}}
        try:
            self.client.request('POST', '/api/v1/namespaces/%s/pods/%s/binding' % (meta['namespace'], meta['name']), binding)
        except ApiError as err:
            if err.code in (404, 409):  # gone or bound meanwhile
                return
            raise
        acc = used.setdefault(node, {})
        for name, amount in pod_requests(pod).items():
            acc[name] = acc.get(name, 0.0) + amount
        acc['pods'] = acc.get('pods', 0) + 1
        event(self.client, pod, 'Normal', 'Scheduled', 'Successfully assigned %s/%s to %s' % (meta['namespace'], meta['name'], node), SCHEDULER)
        klog('I', 'schedule_one.go:314', 'Successfully bound pod to node', pod='%s/%s' % (meta['namespace'], meta['name']), node=node,
             evaluatedNodes=1, feasibleNodes=1)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='kube-scheduler', allow_abbrev=False,
                                     description='kube-scheduler test double of the aifabric lab (never production)')
    parser.add_argument('--kubeconfig', default='/etc/kubernetes/scheduler.conf')
    parser.add_argument('--version', nargs='?', const='true')
    leader_election_args(parser, 'kube-scheduler')
    args, _ignored = parser.parse_known_args(argv)
    if args.version:
        print('Kubernetes %s' % VERSION)
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    klog('I', 'server.go:167', 'Starting Kubernetes Scheduler', version=VERSION)
    scheduler, elector, failing = None, None, False
    while not stop.is_set():
        try:
            if scheduler is None:
                scheduler = Scheduler(Client.from_kubeconfig(args.kubeconfig, user_agent='kube-scheduler/%s (linux/amd64) kubernetes/sim' % VERSION))
                if args.leader_elect == 'true':
                    elector = LeaderElector(scheduler.client, args)
            if elector is None or elector.leading():
                scheduler.sync()
            failing = False
        except (OSError, ApiError, ValueError, KeyError) as err:
            if not failing:
                klog('E', 'reflector.go:158', 'Error syncing', err=str(err))
                failing = True
        stop.wait(1)
    if elector is not None:
        elector.release()
    return 0


if __name__ == '__main__':
    sys.exit(main())
