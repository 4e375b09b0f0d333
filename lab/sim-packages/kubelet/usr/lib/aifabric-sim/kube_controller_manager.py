"""kube-controller-manager test double (aifabric lab, test-side only, never production).

Run by the kubelet double from kubeadm's static Pod manifest
/etc/kubernetes/manifests/kube-controller-manager.yaml (its `command:` flags). Of the real
controllers it has, every second against the API (the client certificate of --kubeconfig):

  csrapproving     approves kubelet client CSRs (signer kubernetes.io/kube-apiserver-client-kubelet)
                   of a system:bootstrappers requestor or of the node itself (renewal) whose
                   request is CN system:node:<name>, O system:nodes (Approved, AutoApproved)
  csrsigning       signs approved, unsigned CSRs of the kubernetes.io/kube-apiserver-client(-kubelet)
                   and kubelet-serving signers with --cluster-signing-cert-file/-key-file
                   (--cluster-signing-duration, default 8760h, or spec.expirationSeconds)
  bootstrapsigner  the jws-kubeconfig-<token-id> keys of ConfigMap kube-public/cluster-info
                   (detached HS256 JWS of its kubeconfig, key "<id>.<secret>") for every valid
                   bootstrap token with usage-bootstrap-signing "true" (off unless named in --controllers)
  tokencleaner     deletes expired bootstrap-token Secrets (off unless named in --controllers)
  nodelifecycle    a Node whose Lease in kube-node-lease is older than --node-monitor-grace-period
                   (40s) gets its conditions Unknown (NodeStatusUnknown) and the
                   node.kubernetes.io/unreachable NoSchedule and NoExecute taints; the taints go
                   when the kubelet posts Ready again

  job              Jobs -> Pods -> Job status and conditions (job_controller.py)
  garbagecollector the Pods of deleted Jobs (job_controller.py)

and, every 2 s, the NVIDIA GPU and Network Operators' controllers (nvidia_operators.py: GPU node
labels, ClusterPolicy and NicClusterPolicy status, NetworkAttachmentDefinitions).

With --leader-elect (the default, and kubeadm's manifest) only the holder of the Lease
kube-system/kube-controller-manager runs them (kube_sim_client.LeaderElector: one of several
control planes; the others take over when it stops renewing).

Everything else (deployments, replicasets, other garbage collection, service accounts' tokens,
the secure port 10257) is not modelled. Paths under AIFABRIC_SIM_ROOT when set.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import signal
import sys
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kube_sim_client import (ApiError, Client, LeaderElector, bootstrap_token, host, klog, leader_election_args, parse_duration, parse_time, rfc3339,
                             secret_data, token_expired, utcnow)
from job_controller import JobController
from nvidia_operators import Operators

KUBELET_CLIENT = 'kubernetes.io/kube-apiserver-client-kubelet'
SIGNERS = (KUBELET_CLIENT, 'kubernetes.io/kube-apiserver-client', 'kubernetes.io/kubelet-serving')
CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests'
DEFAULT_OFF = ('bootstrapsigner', 'tokencleaner')
UNREACHABLE = 'node.kubernetes.io/unreachable'
USAGES = {'digital signature': 'digital_signature', 'key encipherment': 'key_encipherment'}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def detached_jws(content, token_id, token_secret):
    """k8s.io/cluster-bootstrap/token/jws.ComputeDetachedSignature: '<header>..<signature>', HS256 keyed by
    the token secret (the 16 characters after the dot), as the real bootstrapsigner signs."""
    header = b64url(json.dumps({'alg': 'HS256', 'kid': token_id}, separators=(',', ':')).encode())
    payload = b64url(content.encode())
    key = token_secret.encode()
    signature = b64url(hmac.new(key, ('%s.%s' % (header, payload)).encode(), hashlib.sha256).digest())
    return '%s..%s' % (header, signature)


class ControllerManager(object):
    def __init__(self, args):
        self.args = args
        self.stop = threading.Event()
        wanted = [c.strip() for c in args.controllers.split(',') if c.strip()]
        self.enabled = dict((name, ('-' + name) not in wanted and (name in wanted or ('*' in wanted and name not in DEFAULT_OFF)))
                            for name in ('csrapproving', 'csrsigning', 'bootstrapsigner', 'tokencleaner', 'nodelifecycle', 'job',
                                         'garbagecollector'))
        self.grace = parse_duration(args.node_monitor_grace_period)
        self.signing_duration = parse_duration(args.cluster_signing_duration)
        self.client = self.elector = None
        self.ca = self.ca_key = None
        self.warned = set()
        self.ticks = 0
        self.jobs_state = {}  # the job controller's pod backoff, across passes

    def load_ca(self):
        with open(host(self.args.cluster_signing_cert_file), 'rb') as f:
            self.ca = x509.load_pem_x509_certificate(f.read())
        with open(host(self.args.cluster_signing_key_file), 'rb') as f:
            self.ca_key = serialization.load_pem_private_key(f.read(), None)

    def run(self):
        klog('I', 'controllermanager.go:191', 'Starting', version='v1.34.2')
        while not self.stop.is_set():
            try:
                if self.client is None:
                    self.client = Client.from_kubeconfig(self.args.kubeconfig, user_agent='kube-controller-manager/v1.34.2 (linux/amd64) kubernetes/sim')
                    if self.args.leader_elect == 'true':
                        self.elector = LeaderElector(self.client, self.args)
                if self.ca is None and (self.args.cluster_signing_cert_file and self.args.cluster_signing_key_file):
                    self.load_ca()
                if self.elector is None or self.elector.leading():
                    self.sync()
                self.warned.discard('api')
            except (OSError, ApiError, ValueError) as err:
                if 'api' not in self.warned:
                    klog('E', 'controllermanager.go:240', 'Error syncing', err=str(err))
                    self.warned.add('api')
            self.stop.wait(1)
        if self.elector is not None:
            self.elector.release()
        klog('I', 'controllermanager.go:330', 'Stopping controllers')

    def sync(self):
        if self.enabled['csrapproving'] or self.enabled['csrsigning']:
            for csr in self.client.get(CSRS).get('items') or []:
                if self.enabled['csrapproving']:
                    csr = self.approve(csr)
                if self.enabled['csrsigning'] and self.ca is not None:
                    self.sign(csr)
        secrets = None
        if self.enabled['tokencleaner'] or self.enabled['bootstrapsigner']:
            secrets = [s for s in self.client.get('/api/v1/namespaces/kube-system/secrets').get('items') or []
                       if s.get('type') == 'bootstrap.kubernetes.io/token']
        if self.enabled['tokencleaner']:
            for secret in secrets:
                if token_expired(secret_data(secret)):
                    klog('I', 'tokencleaner.go:194', 'Deleting expired secret', secret='kube-system/' + secret['metadata']['name'])
                    try:
                        self.client.request('DELETE', '/api/v1/namespaces/kube-system/secrets/' + secret['metadata']['name'])
                    except ApiError as err:
                        if err.code != 404:
                            raise
        if self.enabled['bootstrapsigner']:
            self.sign_cluster_info(secrets)
        if self.enabled['nodelifecycle']:
            self.node_lifecycle()
        if self.enabled['job'] or self.enabled['garbagecollector']:
            try:
                JobController(self.client, self.jobs_state).sync(self.enabled['job'], self.enabled['garbagecollector'])
                self.warned.discard('jobs')
            except (OSError, ApiError, ValueError, KeyError) as err:
                if 'jobs' not in self.warned:
                    klog('E', 'job_controller.go:570', 'Job sync failed', err=str(err))
                    self.warned.add('jobs')
        self.ticks += 1
        if self.ticks % 2 == 0:  # the NVIDIA operators' controllers, every 2 s
            try:
                Operators(self.client).sync()
                self.warned.discard('operators')
            except (OSError, ApiError, ValueError, KeyError) as err:
                if 'operators' not in self.warned:
                    klog('E', 'controller.go:316', 'NVIDIA operators reconcile failed', err=str(err))
                    self.warned.add('operators')

    # -- csrapproving
    def approve(self, csr):
        spec, status = csr.get('spec') or {}, csr.get('status') or {}
        if spec.get('signerName') != KUBELET_CLIENT or any(c.get('type') in ('Approved', 'Denied') for c in status.get('conditions') or []):
            return csr
        try:
            request = x509.load_pem_x509_csr(base64.b64decode(spec.get('request', '')))
        except ValueError:
            return csr
        cns = [a.value for a in request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        orgs = [a.value for a in request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        if len(cns) != 1 or not cns[0].startswith('system:node:') or orgs != ['system:nodes']:
            return csr
        usages = set(spec.get('usages') or [])
        if 'client auth' not in usages or not usages <= {'digital signature', 'key encipherment', 'client auth'}:
            return csr
        renewal = spec.get('username') == cns[0]
        if not renewal and 'system:bootstrappers' not in (spec.get('groups') or []):
            return csr
        stamp = rfc3339()
        body = dict(csr, status=dict(status, conditions=(status.get('conditions') or []) + [{
            'type': 'Approved', 'status': 'True', 'reason': 'AutoApproved',
            'message': 'Auto approving %s after SubjectAccessReview.' % ('self client cert renewal' if renewal else 'kubelet client certificate'),
            'lastUpdateTime': stamp, 'lastTransitionTime': stamp}]))
        out = self.client.request('PUT', '%s/%s/approval' % (CSRS, csr['metadata']['name']), body)
        klog('I', 'sarapprove.go:95', 'CSR approved', csr=csr['metadata']['name'])
        return out

    # -- csrsigning
    def sign(self, csr):
        spec, status = csr.get('spec') or {}, csr.get('status') or {}
        types = [c.get('type') for c in status.get('conditions') or [] if c.get('status', 'True') == 'True']
        if spec.get('signerName') not in SIGNERS or 'Approved' not in types or 'Denied' in types or 'Failed' in types or status.get('certificate'):
            return
        request = x509.load_pem_x509_csr(base64.b64decode(spec['request']))
        start = utcnow()
        seconds = self.signing_duration
        if spec.get('expirationSeconds'):
            seconds = min(seconds, max(int(spec['expirationSeconds']), 600))
        # cryptography 38 (Debian 12) has no not_valid_after_utc
        ca_end = getattr(self.ca, 'not_valid_after_utc', None) or self.ca.not_valid_after.replace(tzinfo=datetime.timezone.utc)
        end = min(start + datetime.timedelta(seconds=seconds), ca_end)
        usages = set(spec.get('usages') or [])
        eku = [oid for name, oid in (('client auth', ExtendedKeyUsageOID.CLIENT_AUTH), ('server auth', ExtendedKeyUsageOID.SERVER_AUTH))
               if name in usages]
        builder = (x509.CertificateBuilder().subject_name(request.subject).issuer_name(self.ca.subject).public_key(request.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(start - datetime.timedelta(minutes=5)).not_valid_after(end)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature='digital signature' in usages, content_commitment=False,
                                                key_encipherment='key encipherment' in usages, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False,
                                                decipher_only=False), critical=True)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False))
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        try:
            sans = request.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            builder = builder.add_extension(sans.value, critical=False)
        except x509.ExtensionNotFound:
            pass
        cert = builder.sign(self.ca_key, hashes.SHA256())
        pem = cert.public_bytes(serialization.Encoding.PEM)
        body = dict(csr, status=dict(status, certificate=base64.b64encode(pem).decode()))
        self.client.request('PUT', '%s/%s/status' % (CSRS, csr['metadata']['name']), body)
        klog('I', 'signer.go:120', 'Signed certificate', csr=csr['metadata']['name'], signerName=spec['signerName'])

    # -- bootstrapsigner
    def sign_cluster_info(self, secrets):
        info = self.client.get_or_none('/api/v1/namespaces/kube-public/configmaps/cluster-info')
        if info is None:
            return
        data = dict(info.get('data') or {})
        content = data.get('kubeconfig')
        if content is None:
            return
        want = {}
        for secret in secrets:
            token = bootstrap_token(secret)
            if token and token[2].get('usage-bootstrap-signing') == 'true':
                want['jws-kubeconfig-' + token[0]] = detached_jws(content, token[0], token[1])
        new = dict((k, v) for k, v in data.items() if not k.startswith('jws-kubeconfig-'))
        new.update(want)
        if new != data:
            body = dict(info, data=new)
            self.client.request('PUT', '/api/v1/namespaces/kube-public/configmaps/cluster-info', body)
            klog('I', 'bootstrapsigner.go:240', 'Updated cluster-info signatures', tokens=sorted(k[len('jws-kubeconfig-'):] for k in want))

    # -- nodelifecycle
    def node_lifecycle(self):
        leases = dict((l['metadata']['name'], l) for l in self.client.get('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases').get('items') or [])
        now = utcnow()
        for node in self.client.get('/api/v1/nodes').get('items') or []:
            name = node['metadata']['name']
            conditions = (node.get('status') or {}).get('conditions') or []
            ready = ([c for c in conditions if c.get('type') == 'Ready'] or [{}])[0]
            lease = leases.get(name)
            renewed = parse_time(((lease or {}).get('spec') or {}).get('renewTime')) if lease else None
            if renewed is None:
                renewed = parse_time(ready.get('lastHeartbeatTime')) or parse_time(node['metadata'].get('creationTimestamp'))
            stale = renewed is None or (now - renewed).total_seconds() > self.grace
            taints = (node.get('spec') or {}).get('taints') or []
            tainted = [t for t in taints if t.get('key') == UNREACHABLE]
            if stale:
                if ready.get('status') != 'Unknown':
                    self.mark_unknown(node, conditions, now)
                if len(tainted) < 2:
                    stamp = rfc3339(now)
                    new = [t for t in taints if t.get('key') != UNREACHABLE] + [
                        {'key': UNREACHABLE, 'effect': 'NoSchedule'}, {'key': UNREACHABLE, 'effect': 'NoExecute', 'timeAdded': stamp}]
                    self.client.request('PATCH', '/api/v1/nodes/' + name, {'spec': {'taints': new}}, 'application/merge-patch+json')
            elif tainted and ready.get('status') == 'True':
                new = [t for t in taints if t.get('key') != UNREACHABLE]
                self.client.request('PATCH', '/api/v1/nodes/' + name, {'spec': {'taints': new or None}}, 'application/merge-patch+json')
                klog('I', 'node_lifecycle_controller.go:1000', 'Node is healthy again, removing taints', node=name)

    def mark_unknown(self, node, conditions, now):
        stamp = rfc3339(now)
        patched = []
        for cond in conditions or [{'type': 'Ready'}]:
            if cond.get('type') not in ('Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'):
                continue
            patched.append(dict(cond, status='Unknown', reason='NodeStatusUnknown', message='Kubelet stopped posting node status.',
                                lastTransitionTime=stamp))
        self.client.request('PATCH', '/api/v1/nodes/%s/status' % node['metadata']['name'], {'status': {'conditions': patched}},
                            'application/strategic-merge-patch+json')
        klog('I', 'node_lifecycle_controller.go:1200', 'Node hasn\'t been updated', node=node['metadata']['name'],
             duration='%ds' % self.grace)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='kube-controller-manager', allow_abbrev=False,
                                     description='kube-controller-manager test double of the aifabric lab (never production)')
    parser.add_argument('--kubeconfig', default='/etc/kubernetes/controller-manager.conf')
    parser.add_argument('--cluster-signing-cert-file', default='')
    parser.add_argument('--cluster-signing-key-file', default='')
    parser.add_argument('--cluster-signing-duration', default='8760h0m0s')
    parser.add_argument('--controllers', default='*')
    parser.add_argument('--node-monitor-grace-period', default='40s')
    parser.add_argument('--version', nargs='?', const='true')
    leader_election_args(parser, 'kube-controller-manager')
    args, _ignored = parser.parse_known_args(argv)
    if args.version:
        print('Kubernetes v1.34.2')
        return 0
    manager = ControllerManager(args)

    def stop(*_):
        manager.stop.set()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    manager.run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
