"""Node-side doubles of the NVIDIA operators' DaemonSet pods (aifabric lab, test-side only).

The lab runs no pods from DaemonSets, so the kubelet double calls Operands.sync() every ~5 s
and acts, on its own node and with its own credentials, the way these pods would:

  nfd-worker                 while a DaemonSet labelled app.kubernetes.io/name=node-feature-discovery
                             exists (any namespace) and `nvidia-smi -q -x` lists NVIDIA GPUs:
                             feature.node.kubernetes.io/pci-10de.present=true
  gpu-feature-discovery      on nodes labelled nvidia.com/gpu.present=true (not
                             nvidia.com/gpu.deploy.operands=false, nor
                             nvidia.com/gpu.deploy.gpu-feature-discovery=false), while a ClusterPolicy exists with
                             gfd enabled: the GFD labels (nvidia.com/gpu.count, .product, .memory,
                             .family, .compute.major/minor, .machine, cuda.driver*, cuda.runtime*,
                             mig.capable, gfd.timestamp) from `nvidia-smi -q -x`
  nvidia-device-plugin       devicePlugin enabled: capacity nvidia.com/gpu = GPUs seen (listed plus
                             those nvidia-smi cannot get a handle for: fallen off the bus),
                             allocatable = the healthy ones
  k8s-driver-manager         driver enabled and the host's driver answers: relabels
                             nvidia.com/gpu.deploy.driver=pre-installed (what the driver pod does
                             when it finds a host driver)
  nvidia-operator-validator  the Pod nvidia-operator-validator-<node> in the gpu-operator
                             Deployment's namespace, owned by the operator's DaemonSet (Running, init containers driver/toolkit/cuda/
                             plugin-validation Completed; Pending while nvidia-smi fails) and
                             /run/nvidia/validations/{driver,toolkit,cuda,plugin}-ready
  rdma-shared-dev-plugin     a NicClusterPolicy's spec.rdmaSharedDevicePlugin.config: per configList
                             entry rdma/<resourceName> = rdmaHcaMax when an RDMA device of the node
                             (the doca-ofed double's /var/lib/aifabric-sim/sys tree) matches every
                             selector given (vendors, deviceIDs, ifNames), else 0

When the ClusterPolicy goes, labels and nvidia.com/gpu stay (as on a real node until it is
relabelled); the validator Pod goes with its DaemonSet. Paths under AIFABRIC_SIM_ROOT when set.
"""
import json
import os
import re
import shutil
import subprocess  # nosec - runs the node's nvidia-smi
import time
import xml.etree.ElementTree as ET  # nosec - parses the local nvidia-smi's output

from kube_sim_client import ApiError, host, klog, rfc3339

NFD_SELECTOR = 'app.kubernetes.io%2Fname%3Dnode-feature-discovery'
CLUSTERPOLICIES = '/apis/nvidia.com/v1/clusterpolicies'
NICCLUSTERPOLICIES = '/apis/mellanox.com/v1alpha1/nicclusterpolicies'
PCI_PRESENT = 'feature.node.kubernetes.io/pci-10de.present'
GPU_PRESENT = 'nvidia.com/gpu.present'
DEPLOY_OPERANDS = 'nvidia.com/gpu.deploy.operands'
DEPLOY_DRIVER = 'nvidia.com/gpu.deploy.driver'
DEPLOY_GFD = 'nvidia.com/gpu.deploy.gpu-feature-discovery'
GPU = 'nvidia.com/gpu'
RDMA_PREFIX = 'rdma/'
SIM_SYS = '/var/lib/aifabric-sim/sys'
VALIDATIONS = '/run/nvidia/validations'
VALIDATOR_STEPS = ('driver', 'toolkit', 'cuda', 'plugin')
# compute capability major (and minor) -> GFD's nvidia.com/gpu.family (gpu-feature-discovery
# internal/lm/nvml.go getArchFamily)
FAMILIES = {1: 'tesla', 2: 'fermi', 3: 'kepler', 5: 'maxwell', 6: 'pascal', 9: 'hopper', 10: 'blackwell', 12: 'blackwell'}
# nvidia-smi's product_architecture -> compute capability (the XML has none)
COMPUTE_CAP = {'Hopper': (9, 0), 'Ampere': (8, 0), 'Ada Lovelace': (8, 9), 'Turing': (7, 5), 'Volta': (7, 0), 'Blackwell': (10, 0)}
LOST = re.compile(r'^Unable to determine the device handle for GPU([0-9A-Fa-f:.]+): ')


def family(major, minor):
    if major == 7:
        return 'volta' if minor < 5 else 'turing'
    if major == 8:
        return 'ampere' if minor < 9 else 'ada-lovelace'
    return FAMILIES.get(major, 'undefined')


def smi_snapshot(binary=None):
    """{'ok', 'gpus': [{name, memory, arch, mig}], 'lost': [bus ids], 'driver', 'cuda'} from
    `nvidia-smi -q -x`, or None when the node has no nvidia-smi. ok is False when NVML failed."""
    binary = binary or shutil.which('nvidia-smi')
    if not binary:
        return None
    try:
        proc = subprocess.run([binary, '-q', '-x'], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return {'ok': False, 'gpus': [], 'lost': []}
    lost = [m.group(1) for m in (LOST.match(line) for line in proc.stderr.splitlines()) if m]
    if proc.returncode not in (0, 255) or not proc.stdout.lstrip().startswith('<?xml'):
        return {'ok': False, 'gpus': [], 'lost': lost}
    try:
        root = ET.fromstring(re.sub(r'<!DOCTYPE[^>]*>', '', proc.stdout))
    except ET.ParseError:
        return {'ok': False, 'gpus': [], 'lost': lost}
    gpus = []
    for gpu in root.findall('gpu'):
        mem = (gpu.findtext('fb_memory_usage/total') or '0').split()[0]
        gpus.append({'name': gpu.findtext('product_name') or '', 'memory': int(mem) if mem.isdigit() else 0,
                     'arch': gpu.findtext('product_architecture') or '',
                     'mig': (gpu.findtext('mig_mode/current_mig') or 'N/A') != 'N/A'})
    return {'ok': True, 'gpus': gpus, 'lost': lost, 'driver': root.findtext('driver_version') or '',
            'cuda': root.findtext('cuda_version') or ''}


def gfd_labels(snap):
    """The labels gpu-feature-discovery sets (machine type from DMI, the rest from NVML)."""
    gpus = snap['gpus']
    if not gpus:
        return {}
    first = gpus[0]
    major, minor = COMPUTE_CAP.get(first['arch'], (0, 0))
    drv = (snap.get('driver') or '0.0.0').split('.') + ['0', '0']
    cuda = (snap.get('cuda') or '0.0').split('.') + ['0']
    machine = (read_text('/sys/class/dmi/id/product_name') or 'unknown').strip().replace(' ', '-') or 'unknown'
    return {
        'nvidia.com/gfd.timestamp': str(int(time.time())),
        'nvidia.com/gpu.count': str(len(gpus)),
        'nvidia.com/gpu.product': first['name'].replace(' ', '-'),
        'nvidia.com/gpu.memory': str(first['memory']),
        'nvidia.com/gpu.family': family(major, minor),
        'nvidia.com/gpu.compute.major': str(major),
        'nvidia.com/gpu.compute.minor': str(minor),
        'nvidia.com/gpu.machine': machine,
        'nvidia.com/gpu.replicas': '1',
        'nvidia.com/gpu.sharing-strategy': 'none',
        'nvidia.com/gpu.mode': 'compute',
        'nvidia.com/mig.capable': 'true' if first['mig'] else 'false',
        'nvidia.com/cuda.driver.major': drv[0], 'nvidia.com/cuda.driver.minor': drv[1], 'nvidia.com/cuda.driver.rev': drv[2],
        'nvidia.com/cuda.driver-version.major': drv[0], 'nvidia.com/cuda.driver-version.minor': drv[1],
        'nvidia.com/cuda.driver-version.revision': drv[2], 'nvidia.com/cuda.driver-version.full': '.'.join(drv[:3]),
        'nvidia.com/cuda.runtime.major': cuda[0], 'nvidia.com/cuda.runtime.minor': cuda[1],
        'nvidia.com/cuda.runtime-version.major': cuda[0], 'nvidia.com/cuda.runtime-version.minor': cuda[1],
        'nvidia.com/cuda.runtime-version.full': '.'.join(cuda[:2]),
    }


def read_text(path):
    try:
        with open(host(path)) as f:
            return f.read()
    except OSError:
        return None


def rdma_devices():
    """[{name, vendor, device, netdevs}] of the node's RDMA devices, from the sysfs-shaped tree the
    doca-ofed double materialises (class/infiniband/<dev>/device -> bus/pci/devices/<bdf>)."""
    base = host(SIM_SYS + '/class/infiniband')
    out = []
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        dev = os.path.join(base, name, 'device')
        vendor = (read_text(os.path.join(dev, 'vendor')) or '').strip().lower()
        device = (read_text(os.path.join(dev, 'device')) or '').strip().lower()
        netdir = os.path.join(dev, 'net')
        netdevs = sorted(os.listdir(netdir)) if os.path.isdir(netdir) else []
        if not netdevs:  # the netdev of the port's GIDs
            ndev = (read_text(os.path.join(base, name, 'ports/1/gid_attrs/ndevs/0')) or '').strip()
            netdevs = [ndev] if ndev else []
        out.append({'name': name, 'vendor': vendor.replace('0x', ''), 'device': device.replace('0x', ''), 'netdevs': netdevs})
    return out


def selectors_match(dev, selectors):
    """k8s-rdma-shared-dev-plugin: every selector given must match (an empty one matches all)."""
    vendors = [v.lower() for v in selectors.get('vendors') or []]
    ids = [v.lower() for v in selectors.get('deviceIDs') or []]
    ifnames = selectors.get('ifNames') or []
    return ((not vendors or dev['vendor'] in vendors) and (not ids or dev['device'] in ids)
            and (not ifnames or any(n in ifnames for n in dev['netdevs'])))


def rdma_resources(ncp, devices):
    """{rdma/<resourceName>: count} for a NicClusterPolicy's rdmaSharedDevicePlugin config."""
    rsdp = ((ncp or {}).get('spec') or {}).get('rdmaSharedDevicePlugin') or {}
    try:
        config = json.loads(rsdp.get('config') or '{}')
    except ValueError:
        return {}
    out = {}
    for entry in config.get('configList') or []:
        name = entry.get('resourceName')
        if not name:
            continue
        hit = any(selectors_match(d, entry.get('selectors') or {}) for d in devices)
        out[RDMA_PREFIX + name] = str(int(entry.get('rdmaHcaMax') or 0)) if hit else '0'
    return out


def enabled(spec, key, default=True):
    value = (spec.get(key) or {}).get('enabled', default)
    return value is True or str(value).lower() == 'true'


class Operands(object):
    """The operands of one node (its name, an API client with its own credentials)."""

    def __init__(self, client, node, smi=None):
        self.client, self.node, self.smi = client, node, smi
        self.extended = {}  # resource -> (capacity, allocatable) advertised now
        self.logged = set()

    def items(self, path):
        try:
            return self.client.get(path).get('items') or []
        except ApiError as err:
            if err.code == 404:  # the CRD is not there
                return []
            raise

    def sync(self):
        node = self.client.get('/api/v1/nodes/' + self.node)
        labels = dict(node['metadata'].get('labels') or {})
        snap = smi_snapshot(self.smi)
        gpus_seen = len(snap['gpus']) + len(snap['lost']) if snap else 0
        want = {}
        if gpus_seen and self.items('/apis/apps/v1/daemonsets?labelSelector=' + NFD_SELECTOR):
            want[PCI_PRESENT] = 'true'
        policies = self.items(CLUSTERPOLICIES)
        resources = dict((k, v) for k, v in self.extended.items() if k == GPU)
        operands = labels.get(GPU_PRESENT) == 'true' and labels.get(DEPLOY_OPERANDS) != 'false'
        if operands and policies:
            spec = policies[0].get('spec') or {}
            # the operator deploys each operand only to nodes not labelled nvidia.com/gpu.deploy.<operand>=false
            if enabled(spec, 'gfd') and labels.get(DEPLOY_GFD) != 'false' and snap and snap['ok']:
                want.update(gfd_labels(snap))
            if enabled(spec, 'driver') and snap and snap['ok'] and labels.get(DEPLOY_DRIVER) == 'true':
                want[DEPLOY_DRIVER] = 'pre-installed'
            if enabled(spec, 'devicePlugin') and snap and snap['ok']:
                resources[GPU] = (str(gpus_seen), str(len(snap['gpus'])))
            self.validator(snap)
        elif not policies:
            self.delete_validator()
        for ncp in self.items(NICCLUSTERPOLICIES)[:1]:
            for name, count in rdma_resources(ncp, rdma_devices()).items():
                resources[name] = (count, count)
        self.label(labels, want)
        self.publish(node, resources)

    def label(self, labels, want):
        stamp = 'nvidia.com/gfd.timestamp'
        change = dict((k, v) for k, v in want.items() if labels.get(k) != v and k != stamp)
        if stamp in want and (stamp not in labels or any(k.startswith(('nvidia.com/gpu.', 'nvidia.com/cuda.')) for k in change)):
            change[stamp] = want[stamp]  # GFD rewrites it with every labelling that changed something
        if change:
            self.client.request('PATCH', '/api/v1/nodes/' + self.node, {'metadata': {'labels': change}}, 'application/merge-patch+json')
            klog('I', 'labeler.go:90', 'Node labels updated', node=self.node, labels=sorted(change))

    def publish(self, node, resources):
        """Capacity/allocatable of the extended resources, merged into the Node's status (a resource
        no longer advertised is removed)."""
        status = node.get('status') or {}
        cap, alloc = status.get('capacity') or {}, status.get('allocatable') or {}
        gone = set(self.extended) - set(resources)
        patch = {'capacity': {}, 'allocatable': {}}
        for name, (c, a) in resources.items():
            if cap.get(name) != c:
                patch['capacity'][name] = c
            if alloc.get(name) != a:
                patch['allocatable'][name] = a
        for name in gone:
            if name in cap:
                patch['capacity'][name] = None
            if name in alloc:
                patch['allocatable'][name] = None
        self.extended = resources
        if patch['capacity'] or patch['allocatable']:
            self.client.request('PATCH', '/api/v1/nodes/%s/status' % self.node, {'status': patch}, 'application/strategic-merge-patch+json')
            klog('I', 'manager.go:229', 'Extended resources updated', node=self.node,
                 resources=dict((k, v[1]) for k, v in sorted(resources.items())))

    def capacity(self):
        """{resource: (capacity, allocatable)} the kubelet adds to its own status updates."""
        return dict(self.extended)

    # -- nvidia-operator-validator
    def operator_namespace(self):
        for dep in self.items('/apis/apps/v1/deployments?fieldSelector=metadata.name%3Dgpu-operator'):
            return dep['metadata']['namespace']
        return None

    def validator(self, snap):
        namespace = self.operator_namespace()
        if namespace is None:
            return
        owner = self.client.get_or_none('/apis/apps/v1/namespaces/%s/daemonsets/nvidia-operator-validator' % namespace)
        if owner is None:  # the operator has not created its DaemonSet yet
            return
        ok = bool(snap and snap['ok'])
        name = 'nvidia-operator-validator-' + self.node
        path = '/api/v1/namespaces/%s/pods/%s' % (namespace, name)
        live = self.client.get_or_none(path)
        phase = 'Running' if ok else 'Pending'
        if live is not None and (live.get('status') or {}).get('phase') == phase:
            return
        if ok:
            os.makedirs(host(VALIDATIONS), exist_ok=True)
            for step in VALIDATOR_STEPS:
                with open(host('%s/%s-ready' % (VALIDATIONS, step)), 'w') as f:
                    f.write('IS_HOST_DRIVER=true\nNVIDIA_DRIVER_ROOT=/\n' if step == 'driver' else '')
        stamp = rfc3339()
        inits = []
        for step in VALIDATOR_STEPS:
            if ok:
                state = {'terminated': {'exitCode': 0, 'reason': 'Completed', 'startedAt': stamp, 'finishedAt': stamp}}
            elif step == 'driver':
                state = {'running': {'startedAt': stamp}}
            else:
                state = {'waiting': {'reason': 'PodInitializing'}}
            inits.append({'name': step + '-validation', 'image': 'nvcr.io/nvidia/cloud-native/gpu-operator-validator', 'imageID': '',
                          'ready': ok, 'restartCount': 0, 'state': state})
        pod = {'apiVersion': 'v1', 'kind': 'Pod',
               'metadata': {'name': name, 'namespace': namespace,
                            'labels': {'app': 'nvidia-operator-validator', 'app.kubernetes.io/part-of': 'gpu-operator'},
                            'ownerReferences': [{'apiVersion': 'apps/v1', 'kind': 'DaemonSet', 'name': 'nvidia-operator-validator',
                                                 'uid': owner['metadata']['uid'], 'controller': True, 'blockOwnerDeletion': True}]},
               'spec': {'nodeName': self.node, 'restartPolicy': 'Always',
                        'initContainers': [{'name': s + '-validation', 'image': 'nvcr.io/nvidia/cloud-native/gpu-operator-validator'}
                                           for s in VALIDATOR_STEPS],
                        'containers': [{'name': 'nvidia-operator-validator', 'image': 'nvcr.io/nvidia/cloud-native/gpu-operator-validator'}]},
               'status': {'phase': phase, 'startTime': stamp, 'initContainerStatuses': inits,
                          'conditions': [{'type': 'Initialized', 'status': 'True' if ok else 'False', 'lastTransitionTime': stamp},
                                         {'type': 'Ready', 'status': 'True' if ok else 'False', 'lastTransitionTime': stamp}],
                          'containerStatuses': [{'name': 'nvidia-operator-validator', 'ready': ok, 'restartCount': 0, 'image': '',
                                                 'imageID': '', 'state': {'running': {'startedAt': stamp}} if ok
                                                 else {'waiting': {'reason': 'PodInitializing'}}}]}}
        if live is None:
            self.client.request('POST', '/api/v1/namespaces/%s/pods' % namespace, pod)
        else:
            self.client.request('PUT', path + '/status', dict(live, status=pod['status']))
        klog('I', 'validator.go:120', 'Validator pod', pod=namespace + '/' + name, phase=phase)

    def delete_validator(self):
        for pod in self.items('/api/v1/pods?fieldSelector=metadata.name%3Dnvidia-operator-validator-' + self.node):
            try:
                self.client.request('DELETE', '/api/v1/namespaces/%s/pods/%s' % (pod['metadata']['namespace'], pod['metadata']['name']))
            except ApiError as err:
                if err.code != 404:
                    raise
