"""Shared by the kubelet and kube-controller-manager test doubles (aifabric lab, test-side only):
host paths, klog-style log lines, kubeconfig loading and a small Kubernetes API client.

Host paths go through host(): with AIFABRIC_SIM_ROOT set (tests on the controller, never on a
lab host) every absolute path is taken under that directory (a path already under it is kept).
"""
import base64
import datetime
import http.client
import json
import os
import socket
import ssl
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

import yaml


def sim_root():
    return os.environ.get('AIFABRIC_SIM_ROOT', '').rstrip('/')


def host(path):
    """The host path, under AIFABRIC_SIM_ROOT when that is set."""
    root = sim_root()
    if not root or not path or not path.startswith('/') or path == root or path.startswith(root + '/'):
        return path
    return root + path


def hostname():
    return os.environ.get('AIFABRIC_SIM_HOSTNAME') or socket.gethostname()


def klog(level, where, msg, **kv):
    """One klog structured line on stderr: `I1205 10:00:00.000000    1234 server.go:525] "msg" key="value"`."""
    stamp = datetime.datetime.now()
    line = '%s%s %7d %s] %s' % (level, stamp.strftime('%m%d %H:%M:%S.%f'), os.getpid(), where, json.dumps(msg))
    for key, value in kv.items():
        line += ' %s=%s' % (key, json.dumps(value) if isinstance(value, str) else json.dumps(value, separators=(',', ':')))
    sys.stderr.write(line + '\n')
    sys.stderr.flush()


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def rfc3339(when=None):
    return (when or utcnow()).strftime('%Y-%m-%dT%H:%M:%SZ')


def micro_time(when=None):
    return (when or utcnow()).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def parse_time(stamp):
    if not stamp:
        return None
    try:
        when = datetime.datetime.fromisoformat(stamp.replace('Z', '+00:00'))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)


class ApiError(Exception):
    """An HTTP error answer of the API server (code, the Status)."""

    def __init__(self, code, status):
        super().__init__('%s: %s' % (code, (status or {}).get('message', '')))
        self.code, self.status = code, status or {}


def load_kubeconfig(path):
    """{server, ca (PEM text or None), cert/key (PEM bytes or None), token} of the current context."""
    with open(host(path)) as f:
        cfg = yaml.safe_load(f) or {}
    base = os.path.dirname(path)

    def named(kind, name):
        for item in cfg.get(kind) or []:
            if item.get('name') == name:
                return item.get(kind[:-1]) or {}
        return {}
    ctx = named('contexts', cfg.get('current-context')) or ((cfg.get('contexts') or [{}])[0].get('context') or {})
    cluster, user = named('clusters', ctx.get('cluster')), named('users', ctx.get('user'))

    def blob(data_key, file_key, source):
        if source.get(data_key):
            return base64.b64decode(source[data_key])
        if source.get(file_key):
            name = source[file_key] if os.path.isabs(source[file_key]) else os.path.join(base, source[file_key])
            with open(host(name), 'rb') as f:
                return f.read()
        return None
    ca = blob('certificate-authority-data', 'certificate-authority', cluster)
    return {'server': cluster.get('server', '').rstrip('/'), 'ca': ca.decode() if ca else None,
            'cert': blob('client-certificate-data', 'client-certificate', user), 'key': blob('client-key-data', 'client-key', user),
            'token': user.get('token'), 'cluster': cluster, 'user': user}


class Client(object):
    """JSON over HTTPS with a client certificate or a bearer token, on one kept-alive connection per
    thread (as client-go's transport keeps its connections: a TLS handshake per request cost the
    API server double most of its CPU). A request that fails on a connection that had already
    served one (closed by the server or a load balancer while idle) is sent once more on a new one."""

    def __init__(self, server, ca=None, cert=None, key=None, token=None, user_agent='kubelet/v1.34.2 (linux/amd64) kubernetes/sim'):
        self.server, self.token, self.user_agent = server.rstrip('/'), token, user_agent
        url = urllib.parse.urlsplit(self.server)
        self.address, self.prefix = (url.hostname, url.port or 443), url.path
        self.local = threading.local()
        self.ctx = ssl.create_default_context(cadata=ca) if ca else ssl.create_default_context()
        if cert and key:
            with tempfile.TemporaryDirectory() as tmp:  # ssl loads a chain from files only
                paths = []
                for name, data in (('cert.pem', cert), ('key.pem', key)):
                    paths.append(os.path.join(tmp, name))
                    fd = os.open(paths[-1], os.O_WRONLY | os.O_CREAT, 0o600)
                    with os.fdopen(fd, 'wb') as f:
                        f.write(data)
                self.ctx.load_cert_chain(*paths)

    @classmethod
    def from_kubeconfig(cls, path, **kw):
        cfg = load_kubeconfig(path)
        return cls(cfg['server'], cfg['ca'], cfg['cert'], cfg['key'], cfg['token'], **kw)

    def close(self):
        conn = getattr(self.local, 'conn', None)
        self.local.conn, self.local.served = None, False
        if conn is not None:
            conn.close()

    def exchange(self, method, path, data, headers, timeout):
        """(status, body) of one request, on this thread's connection."""
        retry = True
        while True:
            if getattr(self.local, 'conn', None) is None:
                self.local.conn = http.client.HTTPSConnection(self.address[0], self.address[1], timeout=timeout, context=self.ctx)
                self.local.served = False
            conn, reused = self.local.conn, self.local.served
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            try:
                conn.request(method, self.prefix + path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException) as err:
                self.close()
                # a kept connection the other end closed meanwhile; not a timeout (the request may have been served)
                if reused and retry and not isinstance(err, TimeoutError):
                    retry = False
                    continue
                if isinstance(err, OSError):
                    raise
                raise OSError('%s %s: %s' % (method, path, err)) from None
            self.local.served = True
            if resp.will_close:
                self.close()
            return resp.status, raw

    def request(self, method, path, body=None, ctype='application/json', timeout=10):
        data = None if body is None else json.dumps(body).encode()
        headers = {'Accept': 'application/json', 'User-Agent': self.user_agent}
        if data is not None:
            headers['Content-Type'] = ctype
        if self.token:
            headers['Authorization'] = 'Bearer ' + self.token
        status, raw = self.exchange(method, path, data, headers, timeout)
        if status >= 400:
            try:
                detail = json.loads(raw)
            except ValueError:
                detail = {'message': raw.decode(errors='replace')}
            raise ApiError(status, detail)
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return raw.decode(errors='replace')

    def get(self, path):
        return self.request('GET', path)

    def get_or_none(self, path):
        try:
            return self.request('GET', path)
        except ApiError as err:
            if err.code == 404:
                return None
            raise


def parse_duration(text):
    """A Go duration (8760h0m0s, 40s, 5m) in seconds."""
    total, num = 0.0, ''
    units = {'h': 3600, 'm': 60, 's': 1, 'ms': 0.001}
    i = 0
    while i < len(text):
        if text[i].isdigit() or text[i] == '.':
            num += text[i]
            i += 1
            continue
        unit = 'ms' if text[i:i + 2] == 'ms' else text[i]
        total += float(num or 0) * units.get(unit, 0)
        num, i = '', i + len(unit)
    return total + (float(num) if num else 0)


def leader_election_args(parser, name):
    """The --leader-elect* flags of kube-controller-manager and kube-scheduler (component-base)."""
    parser.add_argument('--leader-elect', nargs='?', const='true', default='true', choices=('true', 'false'))
    parser.add_argument('--leader-elect-lease-duration', default='15s')
    parser.add_argument('--leader-elect-renew-deadline', default='10s')
    parser.add_argument('--leader-elect-retry-period', default='2s')
    parser.add_argument('--leader-elect-resource-name', default=name)
    parser.add_argument('--leader-elect-resource-namespace', default='kube-system')


class LeaderElector(object):
    """client-go's leader election with a Lease lock (coordination.k8s.io/v1 Lease
    <namespace>/<name>), as kube-controller-manager and kube-scheduler run it with --leader-elect:
    one identity (<host>_<uuid>) holds the Lease and renews it every retry period; another takes it
    once its renewTime is older than leaseDurationSeconds (leaseTransitions + 1). Every write
    carries the read resourceVersion, so two candidates never both win. A leader that has not
    renewed within the renew deadline stops leading. On a graceful stop the leader releases the
    Lease (holderIdentity empty, as client-go's ReleaseOnCancel), so that a restarted or upgraded
    control plane does not wait out the lease."""

    def __init__(self, client, args):
        self.client = client
        self.namespace, self.name = args.leader_elect_resource_namespace, args.leader_elect_resource_name
        self.identity = '%s_%s' % (hostname(), uuid.uuid4())
        self.duration = parse_duration(args.leader_elect_lease_duration)
        self.deadline = parse_duration(args.leader_elect_renew_deadline)
        self.retry = parse_duration(args.leader_elect_retry_period)
        self.renewed = None  # monotonic time of the last renewal of our own lease
        self.tried = None
        self.announced = False

    @property
    def path(self):
        return '/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s' % (self.namespace, self.name)

    def leading(self):
        """Whether this candidate leads now; tries to acquire or renew once per retry period."""
        now = time.monotonic()
        if self.tried is None or now - self.tried >= self.retry:
            self.tried = now
            if not self.announced:
                klog('I', 'leaderelection.go:257', 'attempting to acquire leader lease %s/%s...' % (self.namespace, self.name))
                self.announced = True
            was = self.is_leader(now)
            try:
                if self.try_acquire_or_renew():
                    self.renewed = now
                    if not was:
                        klog('I', 'leaderelection.go:271', 'successfully acquired lease %s/%s' % (self.namespace, self.name))
            except (OSError, ApiError) as err:
                klog('E', 'leaderelection.go:436', 'error retrieving resource lock %s/%s: %s' % (self.namespace, self.name, err))
            if was and not self.is_leader(now):
                klog('E', 'leaderelection.go:297', 'failed to renew lease %s/%s: timed out waiting for the condition' % (self.namespace, self.name))
        return self.is_leader(now)

    def is_leader(self, now):
        return self.renewed is not None and now - self.renewed < self.deadline

    def try_acquire_or_renew(self):
        now = utcnow()
        spec = {'holderIdentity': self.identity, 'leaseDurationSeconds': int(self.duration), 'renewTime': micro_time(now)}
        lease = self.client.get_or_none(self.path)
        if lease is None:
            body = {'apiVersion': 'coordination.k8s.io/v1', 'kind': 'Lease', 'metadata': {'name': self.name, 'namespace': self.namespace},
                    'spec': dict(spec, acquireTime=micro_time(now), leaseTransitions=0)}
            try:
                self.client.request('POST', self.path.rsplit('/', 1)[0], body)
            except ApiError as err:
                if err.code == 409:
                    return False
                raise
            return True
        old = lease.get('spec') or {}
        holder = old.get('holderIdentity') or ''
        if holder != self.identity:
            renewed = parse_time(old.get('renewTime'))
            if holder and renewed and (now - renewed).total_seconds() < (old.get('leaseDurationSeconds') or self.duration):
                return False
            spec.update(acquireTime=micro_time(now), leaseTransitions=int(old.get('leaseTransitions') or 0) + 1)  # as client-go, after a release too
        else:
            spec.update(acquireTime=old.get('acquireTime') or micro_time(now), leaseTransitions=old.get('leaseTransitions') or 0)
        lease['spec'] = spec
        try:
            self.client.request('PUT', self.path, lease)
        except ApiError as err:
            if err.code in (404, 409):  # deleted or taken meanwhile: next round
                return False
            raise
        return True

    def release(self):
        """Give the Lease up if this candidate holds it (a graceful stop)."""
        if self.renewed is None:
            return
        try:
            lease = self.client.get_or_none(self.path)
            if lease and (lease.get('spec') or {}).get('holderIdentity') == self.identity:
                now = micro_time()
                lease['spec'].update(holderIdentity='', leaseDurationSeconds=1, renewTime=now, acquireTime=now)
                self.client.request('PUT', self.path, lease)
                klog('I', 'leaderelection.go:350', 'released lease %s/%s' % (self.namespace, self.name))
        except (OSError, ApiError):
            pass
        self.renewed = None


def secret_data(secret):
    out = {}
    for key, value in (secret.get('data') or {}).items():
        try:
            out[key] = base64.b64decode(value).decode()
        except (ValueError, UnicodeDecodeError):
            out[key] = ''
    return out


def bootstrap_token(secret):
    """(id, secret, data) of a bootstrap-token Secret that is valid now, else None (k8s.io/cluster-bootstrap)."""
    if secret.get('type') != 'bootstrap.kubernetes.io/token' or not secret['metadata']['name'].startswith('bootstrap-token-'):
        return None
    data = secret_data(secret)
    token_id = data.get('token-id') or ''
    if secret['metadata']['name'] != 'bootstrap-token-' + token_id or len(token_id) != 6 or len(data.get('token-secret', '')) != 16:
        return None
    if token_expired(data):
        return None
    return token_id, data['token-secret'], data


def token_expired(data):
    if not data.get('expiration'):
        return False
    when = parse_time(data['expiration'])
    return when is None or when <= utcnow()


# ---- shared by the workload doubles (scheduler, job controller, the kubelet's pods) ----------------

SUFFIXES = {'n': 1e-9, 'u': 1e-6, 'm': 1e-3, '': 1, 'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'P': 1e15, 'E': 1e18,
            'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50, 'Ei': 2 ** 60}


def quantity(value):
    """A resource.Quantity ('500m', '1Gi', '8', 2, '1e3') as a float; 0 for what does not parse."""
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value or '').strip()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if suffix and text.endswith(suffix):
            try:
                return float(text[:-len(suffix)]) * SUFFIXES[suffix]
            except ValueError:
                return 0.0
    try:
        return float(text)
    except ValueError:
        return 0.0


def pod_requests(pod):
    """{resource: amount} a Pod asks for: per resource the sum over its containers (a request left out
    defaults to the limit, as the API server's defaulting does), at least the largest init container's."""
    spec = pod.get('spec') or {}

    def of(container):
        res = container.get('resources') or {}
        out = dict((k, quantity(v)) for k, v in (res.get('limits') or {}).items())
        out.update((k, quantity(v)) for k, v in (res.get('requests') or {}).items())
        return out
    total = {}
    for container in spec.get('containers') or []:
        for name, amount in of(container).items():
            total[name] = total.get(name, 0.0) + amount
    for container in spec.get('initContainers') or []:
        for name, amount in of(container).items():
            total[name] = max(total.get(name, 0.0), amount)
    return dict((k, v) for k, v in total.items() if v > 0)


def terminal(pod):
    return (pod.get('status') or {}).get('phase') in ('Succeeded', 'Failed')


def event(client, obj, etype, reason, message, component, host_name=None):
    """A core/v1 Event about obj (what `kubectl describe` and `kubectl get events` show)."""
    meta = obj['metadata']
    ns = meta.get('namespace') or 'default'
    stamp = rfc3339()
    body = {'apiVersion': 'v1', 'kind': 'Event',
            'metadata': {'name': '%s.%x' % (meta['name'], int(time.time() * 1e9)), 'namespace': ns},
            'involvedObject': {'apiVersion': obj.get('apiVersion', 'v1'), 'kind': obj.get('kind', 'Pod'), 'name': meta['name'],
                               'namespace': ns, 'uid': meta.get('uid'), 'resourceVersion': meta.get('resourceVersion')},
            'type': etype, 'reason': reason, 'message': message, 'count': 1, 'firstTimestamp': stamp, 'lastTimestamp': stamp,
            'source': dict({'component': component}, **({'host': host_name} if host_name else {})),
            'reportingComponent': component, 'reportingInstance': host_name or ''}
    try:
        client.request('POST', '/api/v1/namespaces/%s/events' % ns, body)
    except ApiError:
        pass  # events are best effort, as in the real recorder
