"""Cluster-side doubles of the NVIDIA GPU Operator's and Network Operator's controllers (aifabric
lab, test-side only). The lab runs no pods from Deployments, so the kube-controller-manager
double calls Operators.sync() every ~2 s with its own (admin-like) credentials:

  gpu-operator (clusterpolicy_controller, state_manager)
    - nodes with feature.node.kubernetes.io/pci-10de.present=true (NFD) or already
      nvidia.com/gpu.present=true: nvidia.com/gpu.present=true and the nvidia.com/gpu.deploy.*
      labels (driver, container-toolkit, device-plugin, gpu-feature-discovery, dcgm,
      dcgm-exporter, operator-validator, node-status-exporter; mig-manager on MIG-capable
      nodes), each only when absent: a value someone else set (the driver pod's
      `pre-installed`, an admin's `false`) is kept, as the real operator does. The operator
      labels deploy.driver=true whatever driver.enabled says.
    - every ClusterPolicy's status: namespace (the gpu-operator Deployment's), state
      ready + Ready True `Reconciled` when every GPU node (not deploy.operands=false) has its
      nvidia-operator-validator Pod Running; ready + Ready True `NoGPUNodes` when there is no
      GPU node; notReady + Ready False `OperandNotReady` (and Error True) otherwise.
  network-operator (nicclusterpolicy_controller, macvlannetwork/hostdevicenetwork controllers)
    - NicClusterPolicy status: state ready, appliedStates per state (ready for what the spec
      enables, ignore for the rest).
    - MacvlanNetwork / HostDeviceNetwork: the NetworkAttachmentDefinition <name> in
      spec.networkNamespace (default `default`) with the CNI config the operator renders
      (owner reference to the CR); status state ready, networkAttachmentDef <ns>/<name>; a
      changed spec rewrites it, a deleted CR's NAD is deleted.
"""
from kube_sim_client import ApiError, klog, rfc3339

CLUSTERPOLICIES = '/apis/nvidia.com/v1/clusterpolicies'
NICCLUSTERPOLICIES = '/apis/mellanox.com/v1alpha1/nicclusterpolicies'
MELLANOX = '/apis/mellanox.com/v1alpha1/'
NADS = '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions'
PCI_PRESENT = 'feature.node.kubernetes.io/pci-10de.present'
GPU_PRESENT = 'nvidia.com/gpu.present'
DEPLOY_OPERANDS = 'nvidia.com/gpu.deploy.operands'
DEPLOY = ('driver', 'container-toolkit', 'device-plugin', 'gpu-feature-discovery', 'dcgm', 'dcgm-exporter', 'operator-validator',
          'node-status-exporter')
NO_GPU_NODES = 'No GPU node found, watching for new nodes to join the cluster.'
# network-operator's states (pkg/state), with the NicClusterPolicy spec path that enables each
NCP_STATES = (('state-OFED', ('ofedDriver',)), ('state-SRIOV-device-plugin', ('sriovDevicePlugin',)),
              ('state-RDMA-device-plugin', ('rdmaSharedDevicePlugin',)), ('state-ib-kubernetes', ('ibKubernetes',)),
              ('state-multus-cni', ('secondaryNetwork', 'multus')),
              ('state-container-networking-plugins', ('secondaryNetwork', 'cniPlugins')),
              ('state-ipoib-cni', ('secondaryNetwork', 'ipoib')), ('state-whereabouts-cni', ('secondaryNetwork', 'ipamPlugin')),
              ('state-nv-ipam-cni', ('nvIpam',)), ('state-nic-feature-discovery', ('nicFeatureDiscovery',)),
              ('state-doca-telemetry-service', ('docaTelemetryService',)))
NETWORKS = (('MacvlanNetwork', 'macvlannetworks'), ('HostDeviceNetwork', 'hostdevicenetworks'))


def nested(obj, path):
    for key in path:
        obj = (obj or {}).get(key)
    return obj


def condition(ctype, status, reason, message, old):
    prev = dict((c.get('type'), c) for c in old or [])
    stamp = (prev.get(ctype) or {}).get('lastTransitionTime') if (prev.get(ctype) or {}).get('status') == status else None
    return {'type': ctype, 'status': status, 'reason': reason, 'message': message, 'lastTransitionTime': stamp or rfc3339()}


def cni_config(kind, name, spec):
    """The config the network-operator renders (manifests/state-macvlan-network, state-hostdevice-network)."""
    ipam = (spec.get('ipam') or '{}').strip() or '{}'
    if kind == 'MacvlanNetwork':
        master = '"master": "%s",' % spec['master'] if spec.get('master') else ''
        return ('{ "cniVersion":"0.3.1", "name":"%s", "type":"macvlan",%s "mode" : "%s", "mtu" : %d, "ipam":%s }'
                % (name, master, spec.get('mode') or 'bridge', int(spec.get('mtu') or 1500), ipam))
    return '{ "cniVersion":"0.3.1", "name":"%s", "type":"host-device", "ipam":%s }' % (name, ipam)


class Operators(object):
    def __init__(self, client):
        self.client = client

    def items(self, path):
        try:
            return self.client.get(path).get('items') or []
        except ApiError as err:
            if err.code == 404:
                return []
            raise

    def sync(self):
        policies = self.items(CLUSTERPOLICIES)
        if policies:
            self.gpu_operator(policies)
        for ncp in self.items(NICCLUSTERPOLICIES):
            self.nic_cluster_policy(ncp)
        self.networks()

    # -- gpu-operator
    def gpu_operator(self, policies):
        deployments = self.items('/apis/apps/v1/deployments?fieldSelector=metadata.name%3Dgpu-operator')
        namespace = deployments[0]['metadata']['namespace'] if deployments else 'gpu-operator'
        gpu_nodes = []
        for node in self.items('/api/v1/nodes'):
            labels = node['metadata'].get('labels') or {}
            if labels.get(PCI_PRESENT) != 'true' and labels.get(GPU_PRESENT) != 'true':
                continue
            want = {GPU_PRESENT: 'true'}
            want.update(('nvidia.com/gpu.deploy.' + d, 'true') for d in DEPLOY)
            if labels.get('nvidia.com/mig.capable') == 'true':
                want['nvidia.com/gpu.deploy.mig-manager'] = 'true'
            change = dict((k, v) for k, v in want.items() if k not in labels or (k == GPU_PRESENT and labels[k] != v))
            if change:
                self.client.request('PATCH', '/api/v1/nodes/' + node['metadata']['name'], {'metadata': {'labels': change}},
                                    'application/merge-patch+json')
                klog('I', 'state_manager.go:300', 'Node labelled for GPU operands', node=node['metadata']['name'], labels=len(change))
            if labels.get(DEPLOY_OPERANDS) != 'false':
                gpu_nodes.append(node['metadata']['name'])
        self.validator_daemonset(namespace)
        pods = dict((p['metadata']['name'], p) for p in self.items('/api/v1/namespaces/%s/pods?labelSelector=app%%3Dnvidia-operator-validator'
                                                                   % namespace))
        waiting = [n for n in gpu_nodes if ((pods.get('nvidia-operator-validator-' + n) or {}).get('status') or {}).get('phase') != 'Running']
        for policy in policies:
            old = (policy.get('status') or {}).get('conditions')
            if not gpu_nodes:
                state, conds = 'ready', [condition('Ready', 'True', 'NoGPUNodes', NO_GPU_NODES, old),
                                         condition('Error', 'False', 'NoGPUNodes', '', old)]
            elif not waiting:
                state, conds = 'ready', [condition('Ready', 'True', 'Reconciled', 'ClusterPolicy is ready.', old),
                                         condition('Error', 'False', 'Reconciled', '', old)]
            else:
                message = 'ClusterPolicy is not ready, states not ready: [state-operator-validation]'
                state, conds = 'notReady', [condition('Ready', 'False', 'OperandNotReady', message, old),
                                            condition('Error', 'True', 'OperandNotReady', message, old)]
            status = {'namespace': namespace, 'state': state, 'conditions': conds}
            self.put_status(CLUSTERPOLICIES + '/' + policy['metadata']['name'], policy, status)

    def validator_daemonset(self, namespace):
        """The operator's DaemonSet nvidia-operator-validator (the node-side double creates its pods, owned by it,
        so that kubectl drain --ignore-daemonsets and k8s_drain treat them as the real ones)."""
        path = '/apis/apps/v1/namespaces/%s/daemonsets' % namespace
        if self.client.get_or_none(path + '/nvidia-operator-validator') is not None:
            return
        labels = {'app': 'nvidia-operator-validator', 'app.kubernetes.io/part-of': 'gpu-operator'}
        self.client.request('POST', path, {
            'apiVersion': 'apps/v1', 'kind': 'DaemonSet',
            'metadata': {'name': 'nvidia-operator-validator', 'namespace': namespace, 'labels': labels},
            'spec': {'selector': {'matchLabels': {'app': 'nvidia-operator-validator'}},
                     'template': {'metadata': {'labels': labels},
                                  'spec': {'nodeSelector': {'nvidia.com/gpu.deploy.operator-validator': 'true'},
                                           'containers': [{'name': 'nvidia-operator-validator',
                                                           'image': 'nvcr.io/nvidia/cloud-native/gpu-operator-validator'}]}}}})
        klog('I', 'state_manager.go:310', 'DaemonSet created', daemonset=namespace + '/nvidia-operator-validator')

    def put_status(self, path, obj, status):
        if obj.get('status') != status:
            self.client.request('PUT', path + '/status', dict(obj, status=status))
            klog('I', 'controller.go:120', 'Status updated', object=path.rsplit('/', 1)[-1], state=status.get('state'))

    # -- network-operator
    def nic_cluster_policy(self, ncp):
        spec = ncp.get('spec') or {}
        applied = [{'name': name, 'state': 'ready' if nested(spec, path) else 'ignore'} for name, path in NCP_STATES]
        self.put_status(NICCLUSTERPOLICIES + '/' + ncp['metadata']['name'], ncp, {'state': 'ready', 'appliedStates': applied})

    def networks(self):
        wanted = set()
        for kind, plural in NETWORKS:
            for cr in self.items(MELLANOX + plural):
                name, spec = cr['metadata']['name'], cr.get('spec') or {}
                namespace = spec.get('networkNamespace') or 'default'
                wanted.add((namespace, name))
                nad = {'apiVersion': 'k8s.cni.cncf.io/v1', 'kind': 'NetworkAttachmentDefinition',
                       'metadata': {'name': name, 'namespace': namespace,
                                    'ownerReferences': [{'apiVersion': 'mellanox.com/v1alpha1', 'kind': kind, 'name': name,
                                                         'uid': cr['metadata']['uid'], 'controller': True, 'blockOwnerDeletion': True}]},
                       'spec': {'config': cni_config(kind, name, spec)}}
                if kind == 'HostDeviceNetwork' and spec.get('resourceName'):
                    nad['metadata']['annotations'] = {'k8s.v1.cni.cncf.io/resourceName': 'nvidia.com/' + spec['resourceName']}
                path = '/apis/k8s.cni.cncf.io/v1/namespaces/%s/network-attachment-definitions' % namespace
                live = self.client.get_or_none(path + '/' + name)
                if live is None:
                    self.client.request('POST', path, nad)
                    klog('I', 'network_controller.go:90', 'NetworkAttachmentDefinition created', nad=namespace + '/' + name)
                elif live.get('spec') != nad['spec'] or (live['metadata'].get('annotations') or {}) != nad['metadata'].get('annotations', {}):
                    live = dict(live, spec=nad['spec'])
                    live['metadata'] = dict(live['metadata'], annotations=nad['metadata'].get('annotations') or {})
                    self.client.request('PUT', path + '/' + name, live)
                    klog('I', 'network_controller.go:95', 'NetworkAttachmentDefinition updated', nad=namespace + '/' + name)
                self.put_status(MELLANOX + plural + '/' + name, cr, {'state': 'ready', 'networkAttachmentDef': '%s/%s' % (namespace, name)})
        for nad in self.items(NADS):
            meta = nad['metadata']
            owned = [o for o in meta.get('ownerReferences') or [] if o.get('kind') in dict(NETWORKS)
                     and o.get('apiVersion', '').startswith('mellanox.com/')]
            if owned and (meta['namespace'], meta['name']) not in wanted:
                try:
                    self.client.request('DELETE', '/apis/k8s.cni.cncf.io/v1/namespaces/%s/network-attachment-definitions/%s'
                                        % (meta['namespace'], meta['name']))
                    klog('I', 'network_controller.go:120', 'NetworkAttachmentDefinition deleted', nad=meta['namespace'] + '/' + meta['name'])
                except ApiError as err:
                    if err.code != 404:
                        raise
