# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubeadm_config: the kubeadm documents of every node of the example inventory, and their validation."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import os

import pytest
import yaml

from ansible_collections.aifabric.cluster.plugins.module_utils import kubeadm_config as kc

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
EXAMPLE = os.path.join(ROOT, 'inventories', 'example')

TOKEN = 'abcdef.0123456789abcdef'
CERTIFICATE_KEY = '0123456789abcdef' * 4
CA_HASH = 'sha256:' + 'ab' * 32
SECRETS = {'token': TOKEN, 'ca_cert_hashes': [CA_HASH], 'certificate_key': CERTIFICATE_KEY}
GPU_TAINT = {'key': 'nvidia.com/gpu', 'value': 'present', 'effect': 'NoSchedule'}
CP_TAINT = {'key': 'node-role.kubernetes.io/control-plane', 'effect': 'NoSchedule'}
VERSIONS = [('1.30.4', kc.V1BETA3), ('1.34.2', kc.V1BETA4)]
SECRET_FIELDS = ('token', 'caCertHashes', 'certificateKey', 'bootstrapTokens', 'tlsBootstrapToken')


def _load_yaml(path):
    with open(path) as handle:
        return yaml.safe_load(handle) or {}


def example_inventory():
    """(cluster_kubernetes, groups, {host: host_vars}) of inventories/example (group_vars/all/kubernetes.yml, host_vars)."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    manager = InventoryManager(loader=DataLoader(), sources=[os.path.join(EXAMPLE, 'hosts.yml')])
    groups = dict((name, sorted(h.name for h in group.get_hosts())) for name, group in manager.groups.items())
    hosts = dict((host.name, _load_yaml(os.path.join(EXAMPLE, 'host_vars', host.name + '.yml'))) for host in manager.get_hosts())
    intent = _load_yaml(os.path.join(EXAMPLE, 'group_vars', 'all', 'kubernetes.yml'))['cluster_kubernetes']
    return intent, groups, hosts


def plan(intent, groups, hosts):
    """[(host, kind, node)]: the first control plane init, the others join-control-plane, kube_nodes join."""
    out = []
    planes = groups['kube_control_plane']
    for host in planes + [h for h in groups['kube_nodes'] if h not in planes]:
        profile = hosts[host]['node_hw_profile']
        node = {'name': host, 'address': hosts[host]['node_mgmt_ip'],
                'taints': (intent.get('gpu_taints') or {}).get(profile, []),
                'labels': (intent.get('node_labels') or {}).get(profile, {})}
        kind = 'join' if host not in planes else 'init' if host == planes[0] else 'join-control-plane'
        out.append((host, kind, node))
    return out


@pytest.fixture(scope='module')
def example():
    return example_inventory()


def with_version(intent, version):
    intent = copy.deepcopy(intent)
    intent['version'] = version
    return intent


def keys_of(value):
    """Every mapping key anywhere in value."""
    if isinstance(value, dict):
        return set(value) | set(k for item in value.values() for k in keys_of(item))
    if isinstance(value, list):
        return set(k for item in value for k in keys_of(item))
    return set()


def one(messages):
    assert len(messages) == 1, messages
    return messages[0]


def registration(doc):
    return doc['nodeRegistration']


def kubelet_args(doc):
    args = registration(doc)['kubeletExtraArgs']
    return dict((a['name'], a['value']) for a in args) if isinstance(args, list) else args


# --- the example inventory ---------------------------------------------------------------------

@pytest.mark.parametrize('version, api', VERSIONS)
@pytest.mark.parametrize('secrets', [SECRETS, None], ids=['secrets', 'no-secrets'])
def test_every_node_of_the_example_renders_valid(example, version, api, secrets):
    intent, groups, hosts = example
    intent = with_version(intent, version)
    nodes = plan(intent, groups, hosts)
    assert [kind for _host, kind, _node in nodes].count('init') == 1
    assert len(nodes) == 67
    for host, kind, node in nodes:
        docs = kc.build(intent, node, kind, copy.deepcopy(secrets))
        assert kc.validate(docs, version) == [], host
        assert [d['apiVersion'] for d in docs] == ([api, api, kc.KUBELET_API] if kind == 'init' else [api])
        assert registration(docs[0])['name'] == host
        assert registration(docs[0])['criSocket'] == 'unix:///run/containerd/containerd.sock'
        assert kubelet_args(docs[0])['node-ip'] == hosts[host]['node_mgmt_ip']
        assert isinstance(registration(docs[0])['kubeletExtraArgs'], list if api == kc.V1BETA4 else dict)
        if secrets is None:
            assert not keys_of(docs) & set(SECRET_FIELDS), host
        # the documents survive a YAML dump and load unchanged
        assert list(yaml.safe_load_all(yaml.safe_dump_all(docs))) == docs


@pytest.mark.parametrize('version, api', VERSIONS)
def test_the_example_roles_taints_and_labels(example, version, api):
    intent, groups, hosts = example
    rendered = dict((host, (kind, kc.build(with_version(intent, version), node, kind, SECRETS)))
                    for host, kind, node in plan(intent, groups, hosts))
    kind, (init, cluster, kubelet) = rendered['mgmt-01']
    assert kind == 'init'
    assert registration(init)['taints'] == [CP_TAINT]
    assert kubelet_args(init)['node-labels'] == 'aifabric.io/hw-profile=mgmt-generic'
    assert init['bootstrapTokens'][0]['token'] == TOKEN and init['certificateKey'] == CERTIFICATE_KEY
    assert init['localAPIEndpoint'] == {'advertiseAddress': '10.10.0.11', 'bindPort': 6443}
    assert cluster['kubernetesVersion'] == 'v' + version
    assert cluster['controlPlaneEndpoint'] == 'k8s-api.cluster.example.internal:8443'
    assert cluster['apiServer']['certSANs'] == ['k8s-api.cluster.example.internal', '10.10.0.50']
    assert cluster['networking'] == {'podSubnet': '10.244.0.0/16', 'serviceSubnet': '10.96.0.0/12'}
    assert kubelet == {'apiVersion': kc.KUBELET_API, 'kind': 'KubeletConfiguration', 'cgroupDriver': 'systemd',
                       'failSwapOn': True}
    for host in ('mgmt-02', 'mgmt-03'):
        kind, (join,) = rendered[host]
        assert kind == 'join-control-plane'
        assert registration(join)['taints'] == [CP_TAINT]
        assert join['controlPlane'] == {'localAPIEndpoint': {'advertiseAddress': hosts[host]['node_mgmt_ip'], 'bindPort': 6443},
                                        'certificateKey': CERTIFICATE_KEY}
    gpu_nodes = groups['gpu_nodes']
    assert len(gpu_nodes) == 64
    for host in gpu_nodes:
        kind, (join,) = rendered[host]
        assert kind == 'join' and 'controlPlane' not in join
        assert registration(join)['taints'] == [GPU_TAINT]
        assert kubelet_args(join)['node-labels'] == 'aifabric.io/fabric=roce,aifabric.io/hw-profile=hgx-h100-8gpu'
        assert join['discovery'] == {'bootstrapToken': {'apiServerEndpoint': 'k8s-api.cluster.example.internal:8443',
                                                        'token': TOKEN, 'caCertHashes': [CA_HASH]}}


# --- api_version and build ---------------------------------------------------------------------

@pytest.mark.parametrize('version, api', [('1.30.0', kc.V1BETA3), ('1.30', kc.V1BETA3), ('1.31.0', kc.V1BETA4),
                                          ('v1.34.2', kc.V1BETA4), ('1.35.11', kc.V1BETA4)])
def test_api_version(version, api):
    assert kc.api_version(version) == api


@pytest.mark.parametrize('version', ['1.29.9', '1.36.0', '2.30.0', '1.x', 1.34, None])
def test_api_version_refuses_unsupported(version):
    with pytest.raises(ValueError):
        kc.api_version(version)


INTENT = {'version': '1.34.2', 'control_plane_endpoint': {'host': 'k8s-api.lab.internal', 'port': 8443},
          'ha_mode': 'keepalived', 'vip': '10.231.0.50', 'pod_cidr': '10.244.0.0/16', 'service_cidr': '10.96.0.0/12',
          'cni': 'calico', 'cgroup_driver': 'systemd'}
NODE = {'name': 'gpu-01', 'address': '10.231.0.101', 'taints': [GPU_TAINT], 'labels': {'aifabric.io/hw-profile': 'hgx'}}
PLANE = {'name': 'mgmt-01', 'address': '10.231.0.11', 'taints': [], 'labels': {}}


def build(kind='join', node=None, secrets=True, **changes):
    """kc.build of INTENT with changes; secrets True: SECRETS."""
    intent = dict(INTENT, **changes)
    return kc.build(intent, dict(node or NODE), kind, copy.deepcopy(SECRETS if secrets is True else secrets))


def test_labels_that_node_restriction_refuses_stay_out_of_node_labels():
    node = dict(NODE, labels={'aifabric.io/rack': 'r12', 'node.kubernetes.io/exclude-from-external-load-balancers': '',
                              'topology.kubernetes.io/zone': 'a', 'k8s.io/x': 'y', 'example.com/k8s.io': 'ok'})
    assert kubelet_args(build(node=node)[0])['node-labels'] == 'aifabric.io/rack=r12,example.com/k8s.io=ok'
    assert kc.kubelet_labels(node['labels'])[1] == [('k8s.io/x', 'y'), ('node.kubernetes.io/exclude-from-external-load-balancers', ''),
                                                    ('topology.kubernetes.io/zone', 'a')]
    # no label the kubelet may set: no node-labels at all
    assert kubelet_args(build(node=dict(NODE, labels={'k8s.io/x': 'y'}))[0]) == {'node-ip': '10.231.0.101'}


def test_v1beta3_arguments_are_a_map():
    join = build(version='1.30.1')[0]
    assert join['apiVersion'] == kc.V1BETA3
    assert registration(join)['kubeletExtraArgs'] == {'node-ip': '10.231.0.101', 'node-labels': 'aifabric.io/hw-profile=hgx'}


def test_a_key_only_taint_has_no_value():
    taints = [{'key': 'dedicated', 'effect': 'NoExecute'}, {'key': 'gpu', 'value': None, 'effect': 'NoSchedule'}]
    assert registration(build(node=dict(NODE, taints=taints))[0])['taints'] == [
        {'key': 'dedicated', 'effect': 'NoExecute'}, {'key': 'gpu', 'effect': 'NoSchedule'}]


def test_a_control_plane_that_runs_workloads_has_no_control_plane_taint():
    init = build('init', node=dict(PLANE, worker=True, taints=[GPU_TAINT]))[0]
    assert registration(init)['taints'] == [GPU_TAINT]
    init = build('init', node=dict(PLANE, taints=[GPU_TAINT]))[0]
    assert registration(init)['taints'] == [CP_TAINT, GPU_TAINT]


def test_one_control_plane_without_load_balancer():
    init, cluster, _kubelet = build('init', node=PLANE, ha_mode='none', vip=None,
                                    control_plane_endpoint={'host': '10.231.0.11', 'port': 6443})
    assert init['localAPIEndpoint'] == {'advertiseAddress': '10.231.0.11', 'bindPort': 6443}
    assert cluster['controlPlaneEndpoint'] == '10.231.0.11:6443'
    assert cluster['apiServer']['certSANs'] == ['10.231.0.11']
    # the port defaults to 6443; the API server listens on the endpoint's port when nothing is in front of it
    assert build('init', node=PLANE, ha_mode='none', control_plane_endpoint={'host': 'api.lab'})[1]['controlPlaneEndpoint'] == 'api.lab:6443'
    assert build('init', node=PLANE, ha_mode='none',
                 control_plane_endpoint={'host': 'api.lab', 'port': 7443})[0]['localAPIEndpoint']['bindPort'] == 7443


def test_ipv6_endpoint_and_cluster_name():
    intent = dict(INTENT, control_plane_endpoint={'host': 'fd00::50', 'port': 6443}, ha_mode='external', vip=None)
    init, cluster, _kubelet = kc.build(intent, PLANE, 'init', None, cluster_name='aifabric-example')
    assert cluster['controlPlaneEndpoint'] == '[fd00::50]:6443' and cluster['clusterName'] == 'aifabric-example'
    assert 'bootstrapTokens' not in init and 'certificateKey' not in init
    assert kc.build(intent, NODE, 'join')[0]['discovery'] == {'bootstrapToken': {'apiServerEndpoint': '[fd00::50]:6443'}}


def test_cgroupfs_driver():
    assert build('init', node=PLANE, cgroup_driver='cgroupfs')[2]['cgroupDriver'] == 'cgroupfs'


@pytest.mark.parametrize('kind, secrets, text', [
    ('join', {'ca_cert_hashes': [CA_HASH]}, 'secrets.token is required for join'),
    ('join', {'token': TOKEN}, 'secrets.ca_cert_hashes is required for join'),
    ('join-control-plane', {'token': TOKEN, 'ca_cert_hashes': [CA_HASH]},
     'secrets.certificate_key is required for join-control-plane'),
    ('init', {}, 'secrets.token is required for init'),
])
def test_missing_secrets(kind, secrets, text):
    with pytest.raises(ValueError, match=text) as info:
        build(kind, secrets=secrets)
    assert TOKEN not in str(info.value)


def test_init_without_certificate_key():
    init = build('init', node=PLANE, secrets={'token': TOKEN})[0]
    assert 'certificateKey' not in init and init['bootstrapTokens'][0]['token'] == TOKEN


@pytest.mark.parametrize('kind, node, text', [
    ('upgrade', NODE, "kind 'upgrade' is not one of init, join-control-plane, join"),
    ('join', dict(NODE, address=None), 'node.address is required'),
    ('join', {'address': '10.0.0.1'}, 'node.name is required'),
])
def test_build_refuses(kind, node, text):
    with pytest.raises(ValueError, match=text):
        kc.build(INTENT, node, kind)


# --- validate: one message per problem ----------------------------------------------------------

def init_docs(version='1.34.2'):
    return build('init', node=PLANE, version=version)


def join_docs(version='1.34.2', kind='join'):
    return build(kind, node=NODE if kind == 'join' else PLANE, version=version)


def test_unknown_field_with_a_near_miss():
    docs = init_docs()
    docs[0]['nodeRegistration']['critSocket'] = docs[0]['nodeRegistration'].pop('criSocket')
    assert one(kc.validate(docs, '1.34.2')) == (
        'InitConfiguration.nodeRegistration.critSocket is not a field of kubeadm.k8s.io/v1beta4 (did you mean '
        'criSocket?) (kubeadm would ignore it); allowed: name, criSocket, taints, kubeletExtraArgs, '
        'ignorePreflightErrors, imagePullPolicy, imagePullSerial')


def test_v1beta3_map_arguments_under_v1beta4():
    docs = join_docs()
    docs[0]['nodeRegistration']['kubeletExtraArgs'] = {'node-ip': '10.231.0.101'}
    assert one(kc.validate(docs, '1.34.2')) == (
        'JoinConfiguration.nodeRegistration.kubeletExtraArgs is a map: the v1beta3 form; allowed in '
        'kubeadm.k8s.io/v1beta4: a list of {name, value}')


def test_v1beta4_list_arguments_under_v1beta3():
    docs = init_docs('1.30.2')
    docs[1]['apiServer']['extraArgs'] = [{'name': 'audit-log-path', 'value': '/var/log/audit.log'}]
    assert one(kc.validate(docs, '1.30.2')) == (
        'ClusterConfiguration.apiServer.extraArgs is a list of {name, value}: the v1beta4 form; allowed in '
        'kubeadm.k8s.io/v1beta3: a map of flag name to string value')


@pytest.mark.parametrize('args, text', [
    ([{'name': 'node-ip'}], "[0] '{'name': 'node-ip'}' is not {name, value}"),
    ([{'name': 'v', 'value': 2}], "[0] '{'name': 'v', 'value': 2}' does not have a string name and value"),
    ('node-ip=1', "kubeletExtraArgs 'node-ip=1' is not a list"),
])
def test_malformed_v1beta4_arguments(args, text):
    docs = join_docs()
    docs[0]['nodeRegistration']['kubeletExtraArgs'] = args
    assert text in one(kc.validate(docs, '1.34.2'))


def test_v1beta3_argument_values_are_strings():
    docs = init_docs('1.30.2')
    docs[1]['controllerManager'] = {'extraArgs': {'node-cidr-mask-size': 24}}
    assert one(kc.validate(docs, '1.30.2')) == (
        "ClusterConfiguration.controllerManager.extraArgs.node-cidr-mask-size '24' is not a string; allowed: a quoted value")


@pytest.mark.parametrize('bad', ['ABCDEF.0123456789abcdef', 'abcdef0123456789abcdef', 'abcdef.0123456789abcde', 12345])
def test_a_bad_bootstrap_token_is_not_shown(bad):
    docs = init_docs()
    docs[0]['bootstrapTokens'][0]['token'] = bad
    message = one(kc.validate(docs, '1.34.2'))
    assert message == ('InitConfiguration.bootstrapTokens[0].token is not a bootstrap token; allowed: '
                       '[a-z0-9]{6}.[a-z0-9]{16} (as kubeadm token generate prints)')
    assert str(bad) not in message


def test_a_bad_discovery_token_is_not_shown():
    docs = join_docs()
    docs[0]['discovery']['bootstrapToken']['token'] = 'secret.0123456789ABCDEF'
    message = one(kc.validate(docs, '1.34.2'))
    assert message.startswith('JoinConfiguration.discovery.bootstrapToken.token is not a bootstrap token')
    assert 'secret' not in message and '0123456789ABCDEF' not in message


@pytest.mark.parametrize('bad', ['0123456789abcdef' * 3, CERTIFICATE_KEY + '0', 'z' * 64])
def test_a_bad_certificate_key_is_not_shown(bad):
    docs = join_docs(kind='join-control-plane')
    docs[0]['controlPlane']['certificateKey'] = bad
    message = one(kc.validate(docs, '1.34.2'))
    assert message.startswith('JoinConfiguration.controlPlane.certificateKey is not a certificate key; allowed: 64 '
                              'hexadecimal characters')
    assert bad not in message


def test_ca_cert_hashes():
    docs = join_docs()
    docs[0]['discovery']['bootstrapToken']['caCertHashes'] = ['sha1:abc']
    assert one(kc.validate(docs, '1.34.2')) == (
        'JoinConfiguration.discovery.bootstrapToken.caCertHashes[0] is not a CA certificate hash; allowed: '
        'sha256:<64 hexadecimal characters> (the SPKI hash of the cluster CA)')
    del docs[0]['discovery']['bootstrapToken']['caCertHashes']
    assert 'has a token but no caCertHashes' in one(kc.validate(docs, '1.34.2'))
    docs[0]['discovery']['bootstrapToken']['unsafeSkipCAVerification'] = True
    assert kc.validate(docs, '1.34.2') == []


def test_secrets_in_a_misshaped_section_are_not_shown():
    docs = init_docs()
    docs[0]['bootstrapTokens'] = {'token': TOKEN}
    message = one(kc.validate(docs, '1.34.2'))
    assert message == ('InitConfiguration.bootstrapTokens is a mapping, not a list; allowed: a list of mappings')
    docs = join_docs()
    docs[0]['discovery']['bootstrapToken'] = TOKEN
    message = one(kc.validate(docs, '1.34.2'))
    assert message.startswith('JoinConfiguration.discovery.bootstrapToken is a string, not a mapping; allowed: '
                              '{token, apiServerEndpoint, caCertHashes, unsafeSkipCAVerification}')
    assert TOKEN not in message


def test_a_bad_taint_effect():
    docs = join_docs()
    docs[0]['nodeRegistration']['taints'][0]['effect'] = 'NoScheduled'
    assert one(kc.validate(docs, '1.34.2')) == (
        "JoinConfiguration.nodeRegistration.taints[0].effect 'NoScheduled' is not a taint effect; allowed: NoSchedule, "
        "PreferNoSchedule, NoExecute")


@pytest.mark.parametrize('taints, text', [
    ([{'effect': 'NoSchedule'}], 'taints[0].key is not defined'),
    ([{'key': 'a', 'effect': 'NoSchedule', 'efect': 'x'}], 'taints[0].efect is not a field of kubeadm.k8s.io/v1beta4'),
    ('nvidia.com/gpu', "taints 'nvidia.com/gpu' is not a list"),
    (['nvidia.com/gpu'], "taints[0] 'nvidia.com/gpu' is not a mapping"),
])
def test_malformed_taints(taints, text):
    docs = join_docs()
    docs[0]['nodeRegistration']['taints'] = taints
    assert text in one(kc.validate(docs, '1.34.2'))


def test_unset_or_empty_taints_are_valid():
    docs = init_docs()
    docs[0]['nodeRegistration']['taints'] = []
    assert kc.validate(docs, '1.34.2') == []
    docs[0]['nodeRegistration']['taints'] = None
    assert kc.validate(docs, '1.34.2') == []


@pytest.mark.parametrize('field, value, text', [
    ('podSubnet', '10.244.0.0/33', "ClusterConfiguration.networking.podSubnet '10.244.0.0/33' is not a CIDR; allowed: "
                                   "a network address with prefix length, such as 10.244.0.0/16"),
    ('serviceSubnet', '10.96.0.1/12', "ClusterConfiguration.networking.serviceSubnet '10.96.0.1/12' has host bits set; "
                                      "allowed: the network address, 10.96.0.0/12"),
    ('podSubnet', '10.244.0.0/16,fd00::/4x', "ClusterConfiguration.networking.podSubnet 'fd00::/4x' is not a CIDR"),
    ('podSubnet', '', "ClusterConfiguration.networking.podSubnet '' is not a CIDR"),
])
def test_malformed_cidrs(field, value, text):
    docs = init_docs()
    docs[1]['networking'][field] = value
    assert one(kc.validate(docs, '1.34.2')).startswith(text)


def test_dual_stack_subnets_are_valid():
    docs = init_docs()
    docs[1]['networking']['podSubnet'] = '10.244.0.0/16,fd00:10:244::/56'
    assert kc.validate(docs, '1.34.2') == []


@pytest.mark.parametrize('index, path, text', [
    (0, ('nodeRegistration', 'name'), 'InitConfiguration.nodeRegistration.name is not defined; required: the node name'),
    (1, ('kubernetesVersion',), 'ClusterConfiguration.kubernetesVersion is not defined; required: vX.Y.Z'),
])
def test_missing_required_fields_of_init(index, path, text):
    docs = init_docs()
    parent = docs[index]
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    assert one(kc.validate(docs, '1.34.2')).startswith(text)


def test_missing_discovery():
    docs = join_docs()
    del docs[0]['discovery']
    assert one(kc.validate(docs, '1.34.2')).startswith('JoinConfiguration.discovery is not defined; required:')
    docs[0]['discovery'] = {'bootstrapToken': {'token': TOKEN, 'caCertHashes': [CA_HASH]},
                            'file': {'kubeConfigPath': '/etc/kubernetes/discovery.conf'}}
    assert one(kc.validate(docs, '1.34.2')) == (
        'JoinConfiguration.discovery has bootstrapToken and file; required: exactly one of bootstrapToken, file')


def test_wrong_api_version_is_one_message_per_document():
    # a v1beta3 join (its map arguments are right for v1beta3) checked for 1.34
    assert one(kc.validate(join_docs('1.30.4'), '1.34.2')).startswith(
        "JoinConfiguration.apiVersion 'kubeadm.k8s.io/v1beta3' is not the API of Kubernetes 1.34; allowed: "
        "kubeadm.k8s.io/v1beta4 (kubeadm.k8s.io/v1beta3 up to 1.30, v1beta4 from 1.31)")
    docs = join_docs()
    assert one(kc.validate(docs, '1.30')).startswith(
        "JoinConfiguration.apiVersion 'kubeadm.k8s.io/v1beta4' is not the API of Kubernetes 1.30; allowed: kubeadm.k8s.io/v1beta3")
    docs[0]['apiVersion'] = 'kubeadm.k8s.io/v1beta2'
    assert one(kc.validate(docs, '1.34.2')).startswith("JoinConfiguration.apiVersion 'kubeadm.k8s.io/v1beta2' is not")
    docs = init_docs()
    docs[2]['apiVersion'] = 'kubelet.config.k8s.io/v1'
    assert one(kc.validate(docs, '1.34.2')) == ("KubeletConfiguration.apiVersion 'kubelet.config.k8s.io/v1' is not the "
                                                "API of Kubernetes 1.34; allowed: kubelet.config.k8s.io/v1beta1")


def test_timeouts_are_v1beta4_only():
    docs = init_docs()
    docs[0]['timeouts'] = {'controlPlaneComponentHealthCheck': '8m0s', 'kubeletHealthCheck': '4m0s'}
    assert kc.validate(docs, '1.34.2') == []
    docs[0]['timeouts']['tlsBootstap'] = '5m'
    assert one(kc.validate(docs, '1.34.2')).startswith(
        'InitConfiguration.timeouts.tlsBootstap is not a field of kubeadm.k8s.io/v1beta4 (did you mean tlsBootstrap?)')
    docs = init_docs('1.30.1')
    docs[0]['timeouts'] = {'kubeletHealthCheck': '4m0s'}
    assert one(kc.validate(docs, '1.30.1')).startswith('InitConfiguration.timeouts is not a field of kubeadm.k8s.io/v1beta3')
    docs = init_docs('1.30.1')
    docs[1]['apiServer']['timeoutForControlPlane'] = '8m0s'
    assert kc.validate(docs, '1.30.1') == []
    docs = init_docs()
    docs[1]['apiServer']['timeoutForControlPlane'] = '8m0s'
    assert one(kc.validate(docs, '1.34.2')).startswith(
        'ClusterConfiguration.apiServer.timeoutForControlPlane is not a field of kubeadm.k8s.io/v1beta4')


@pytest.mark.parametrize('version, doc, section, field, value', [
    ('1.34.2', 1, 'apiServer', 'certSans', ['x']),
    ('1.34.2', 1, 'etcd', 'locl', {}),
    ('1.34.2', 1, 'networking', 'podCIDR', '10.0.0.0/8'),
    ('1.34.2', 1, 'scheduler', 'extraArg', {}),
    ('1.30.2', 1, 'controllerManager', 'extraEnvs', []),
    ('1.34.2', 0, 'localAPIEndpoint', 'bindAddress', '0.0.0.0'),
    ('1.34.2', 0, None, 'nodeRegistrations', {}),
    ('1.34.2', 1, None, 'kubernetesVerison', 'v1.34.2'),
    ('1.30.2', 1, None, 'proxy', {'disabled': True}),
])
def test_unknown_fields(version, doc, section, field, value):
    docs = init_docs(version)
    (docs[doc].setdefault(section, {}) if section else docs[doc])[field] = value
    kind = docs[doc]['kind']
    path = '.'.join(p for p in (kind, section, field) if p)
    assert one(kc.validate(docs, version)).startswith('%s is not a field of %s' % (path, kc.api_version(version)))


def test_etcd_local_arguments_follow_the_version():
    docs = init_docs()
    docs[1]['etcd']['local']['extraArgs'] = [{'name': 'quota-backend-bytes', 'value': '8589934592'}]
    docs[1]['etcd']['local']['extraEnvs'] = [{'name': 'GOMAXPROCS', 'value': '4'}]
    assert kc.validate(docs, '1.34.2') == []
    docs[1]['etcd']['local']['extraArgs'] = {'quota-backend-bytes': '8589934592'}
    assert one(kc.validate(docs, '1.34.2')).startswith('ClusterConfiguration.etcd.local.extraArgs is a map: the v1beta3 form')


def test_external_etcd_http_endpoints_since_1_35():
    docs = init_docs('1.35.0')
    docs[1]['kubernetesVersion'] = 'v1.35.0'
    docs[1]['etcd'] = {'external': {'endpoints': ['https://10.0.0.1:2379'], 'httpEndpoints': ['https://10.0.0.1:2381']}}
    assert kc.validate(docs, '1.35.0') == []
    docs = init_docs()
    docs[1]['etcd'] = {'external': {'endpoints': ['https://10.0.0.1:2379'], 'httpEndpoints': ['https://10.0.0.1:2381']}}
    assert one(kc.validate(docs, '1.34.2')).startswith('ClusterConfiguration.etcd.external.httpEndpoints is not a field')


def test_kubernetes_version_matches():
    docs = init_docs()
    docs[1]['kubernetesVersion'] = 'v1.33.0'
    assert one(kc.validate(docs, '1.34.2')) == (
        "ClusterConfiguration.kubernetesVersion 'v1.33.0' is not a 1.34 release; allowed: v1.34.Z (the version the "
        "configuration is rendered for)")
    docs[1]['kubernetesVersion'] = '1.34.2'
    assert one(kc.validate(docs, '1.34.2')).startswith("ClusterConfiguration.kubernetesVersion '1.34.2' is not a release")


def test_kubelet_configuration():
    docs = init_docs('1.30.2')
    docs[2]['failCgroupV1'] = True
    assert one(kc.validate(docs, '1.30.2')).startswith(
        'KubeletConfiguration.failCgroupV1 is not a field of kubelet.config.k8s.io/v1beta1 of Kubernetes 1.30')
    docs = init_docs('1.34.2')
    docs[2].update(failCgroupV1=True, userNamespaces={'idsPerPod': 65536}, maxPods=200)
    assert kc.validate(docs, '1.34.2') == []
    docs[2]['cgroupDriver'] = 'system'
    assert one(kc.validate(docs, '1.34.2')) == (
        "KubeletConfiguration.cgroupDriver 'system' is not a cgroup driver; allowed: systemd, cgroupfs")
    docs[2]['cgroupDriver'] = 'systemd'
    docs[2]['failSwapon'] = False
    assert 'did you mean failSwapOn?' in one(kc.validate(docs, '1.34.2'))


def test_document_level_problems():
    docs = init_docs() + [{'apiVersion': 'kubeproxy.config.k8s.io/v1alpha1', 'kind': 'KubeProxyConfiguration'}]
    assert one(kc.validate(docs, '1.34.2')).startswith("document 3 kind 'KubeProxyConfiguration' is not a kind we render")
    docs = init_docs() + [init_docs()[1]]
    assert one(kc.validate(docs, '1.34.2')) == ('document 3 is a second ClusterConfiguration (document 1 is the '
                                                'first); allowed: one of each kind')
    assert one(kc.validate(init_docs() + ['abcdef.0123456789abcdef'], '1.34.2')) == (
        'document 3 is a string, not a mapping; allowed: a kubeadm document {apiVersion, kind, ...}')
    assert one(kc.validate(init_docs() + join_docs(), '1.34.2')).startswith(
        'the configuration has a JoinConfiguration and an InitConfiguration')
    assert one(kc.validate({'kind': 'InitConfiguration'}, '1.34.2')) == (
        'the kubeadm configuration is a mapping, not a list of documents')


@pytest.mark.parametrize('version', ['1.29.0', '1.36', 'latest'])
def test_validate_an_unsupported_version(version):
    assert 'is not' in one(kc.validate(init_docs(), version))


def test_every_problem_at_once_is_a_message_each():
    docs = init_docs()
    docs[0]['nodeRegistration']['critSocket'] = docs[0]['nodeRegistration'].pop('criSocket')
    docs[0]['bootstrapTokens'][0]['token'] = 'bad'
    docs[0]['certificateKey'] = 'short'
    docs[0]['nodeRegistration']['taints'][0]['effect'] = 'Never'
    docs[1]['networking']['podSubnet'] = '10.244.0.0'
    docs[1]['apiServer']['extraArgs'] = {'a': 'b'}
    messages = kc.validate(docs, '1.34.2')
    assert len(messages) == 6, messages
    assert not any('short' in m or "'bad'" in m for m in messages)
