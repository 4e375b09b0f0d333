"""Node-side double of Calico's calico-node DaemonSet pod (aifabric lab, test-side only).

The lab runs no pods from DaemonSets, so the kubelet double calls CalicoNode.sync() every ~2 s.
While the DaemonSet kube-system/calico-node exists (Calico's manifest, as the kubernetes_cni role
applies it from the site mirror), it does on this node what the real pod does that a node and
the API can see:

  - install-cni (init container): the CNI binaries calico and calico-ipam in /opt/cni/bin (here
    small scripts that answer the CNI VERSION command and refuse the rest), the plugin config
    /etc/cni/net.d/10-calico.conflist (CNI_CONF_NAME) from the ConfigMap calico-config's
    cni_network_config, with __KUBERNETES_NODE_NAME__, __CNI_MTU__ (veth_mtu) and
    __KUBECONFIG_FILEPATH__ replaced, and /etc/cni/net.d/calico-kubeconfig;
  - calico-node's startup: when the IPPool CRD (crd.projectcalico.org/v1) exists and there is no
    IPPool yet, the pool default-ipv4-ippool from the calico-node container's CALICO_IPV4POOL_CIDR
    (192.168.0.0/16 when unset, as the real startup), CALICO_IPV4POOL_IPIP / _VXLAN,
    CALICO_IPV4POOL_BLOCK_SIZE (26), natOutgoing.

Once the conflist is there, containerd's CRI reports the network ready and the kubelet double
its node Ready (kubelet.py network_ready). Files stay when the DaemonSet goes, as on a real host.
Paths under AIFABRIC_SIM_ROOT when set.
"""
import json
import os

from kube_sim_client import ApiError, host, klog

DAEMONSET = '/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node'
CONFIGMAP = '/api/v1/namespaces/kube-system/configmaps/calico-config'
IPPOOL_CRD = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/ippools.crd.projectcalico.org'
IPPOOLS = '/apis/crd.projectcalico.org/v1/ippools'
NET_DIR, BIN_DIR = '/etc/cni/net.d', '/opt/cni/bin'
KUBECONFIG = NET_DIR + '/calico-kubeconfig'
BINARY = ('#!/bin/sh\n# calico CNI plugin (aifabric lab double): answers VERSION, refuses the rest\n'
          'if [ "$CNI_COMMAND" = VERSION ]; then\n'
          '  echo \'{"cniVersion":"1.0.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0"]}\'; exit 0\nfi\n'
          'echo \'{"cniVersion":"0.3.1","code":999,"msg":"the aifabric lab runs no pod sandboxes"}\'; exit 1\n')


def _env(container, name):
    for item in container.get('env') or []:
        if item.get('name') == name and 'value' in item:
            return str(item['value'])
    return None


def _container(spec, name):
    for container in (spec.get('initContainers') or []) + (spec.get('containers') or []):
        if container.get('name') == name:
            return container
    return {}


def _write(path, text, mode=0o644):
    path = host(path)
    try:
        with open(path) as f:
            if f.read() == text:
                return False
    except OSError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + '.tmp', 'w') as f:
        f.write(text)
    os.chmod(path + '.tmp', mode)
    os.replace(path + '.tmp', path)
    return True


class CalicoNode(object):
    def __init__(self, client, node):
        self.client, self.node = client, node
        self.pool_done = False  # calico-node's startup makes the default pool once, not on every sync
        # the plugin's own kubeconfig (the real one carries the calico-cni-plugin service account's token)
        self.kubeconfig = json.dumps({'apiVersion': 'v1', 'kind': 'Config', 'current-context': 'calico-context',
                                      'clusters': [{'name': 'local', 'cluster': {'server': client.server}}],
                                      'users': [{'name': 'calico', 'user': {}}],
                                      'contexts': [{'name': 'calico-context', 'context': {'cluster': 'local', 'user': 'calico'}}]},
                                     indent=2) + '\n'

    def sync(self):
        daemonset = self.client.get_or_none(DAEMONSET)
        if daemonset is None:
            return
        spec = ((daemonset.get('spec') or {}).get('template') or {}).get('spec') or {}
        self.install_cni(_container(spec, 'install-cni'))
        self.ippool(_container(spec, 'calico-node'))

    def install_cni(self, container):
        config = self.client.get_or_none(CONFIGMAP)
        if config is None:  # the init container waits for its ConfigMap
            return
        data = config.get('data') or {}
        template = data.get('cni_network_config')
        if not template:
            return
        mtu = data.get('veth_mtu') or '0'
        conf = (template.replace('__KUBERNETES_NODE_NAME__', self.node).replace('__CNI_MTU__', mtu)
                .replace('__KUBECONFIG_FILEPATH__', KUBECONFIG))
        try:
            json.loads(conf)
        except ValueError as err:
            klog('E', 'install.go:391', 'Failed to parse the CNI network config', err=str(err))
            return
        for name in ('calico', 'calico-ipam'):
            _write(os.path.join(BIN_DIR, name), BINARY, 0o755)
        _write(KUBECONFIG, self.kubeconfig, 0o600)
        name = _env(container, 'CNI_CONF_NAME') or '10-calico.conflist'
        if _write(os.path.join(NET_DIR, name), conf + '\n'):
            klog('I', 'install.go:470', 'Created CNI config', name=name)

    def ippool(self, container):
        if self.pool_done or self.client.get_or_none(IPPOOL_CRD) is None:
            return
        if self.client.get(IPPOOLS).get('items'):  # the default pool, or one of the site's: calico-node makes none
            self.pool_done = True
            return
        pool = {'apiVersion': 'crd.projectcalico.org/v1', 'kind': 'IPPool', 'metadata': {'name': 'default-ipv4-ippool'},
                'spec': {'cidr': _env(container, 'CALICO_IPV4POOL_CIDR') or '192.168.0.0/16',
                         'ipipMode': _env(container, 'CALICO_IPV4POOL_IPIP') or 'Always',
                         'vxlanMode': _env(container, 'CALICO_IPV4POOL_VXLAN') or 'Never',
                         'blockSize': int(_env(container, 'CALICO_IPV4POOL_BLOCK_SIZE') or 26),
                         'natOutgoing': True, 'nodeSelector': 'all()', 'allowedUses': ['Workload', 'Tunnel']}}
        try:
            self.client.request('POST', IPPOOLS, pool)
            klog('I', 'startup.go:1051', 'Created default IPv4 pool', cidr=pool['spec']['cidr'])
        except ApiError as err:
            if err.code != 409:  # another node's calico-node was first
                raise
        self.pool_done = True
