"""aifabric lab TEST DOUBLE of NVIDIA's nvidia-ctk (NVIDIA Container Toolkit 1.18.0).

Test-side only: shipped in the lab's nvidia-container-toolkit simulator package, never
in production. Run by /usr/bin/nvidia-ctk (a small sh wrapper). It keeps the real
command line and edits the same files the real tool edits:

- nvidia-ctk --version
- nvidia-ctk runtime configure --runtime=containerd|docker [--config=PATH]
  [--drop-in-config=PATH] [--set-as-default] [--dry-run] [--nvidia-runtime-name=NAME]
- nvidia-ctk cdi generate [--output=PATH] [--format=yaml|json] [--device-name-strategy=index|uuid ...]
- nvidia-ctk cdi list

The containerd config (version 2 format) is edited textually, stdlib only: the nvidia
runtime tables are removed and written again at the end of the file, and
default_runtime_name is set in place, so a second run yields the same file. The CDI
spec is built from the GPUs the simulated nvidia-smi reports.
AIFABRIC_SIM_ROOT (test-side) prefixes the default paths (/etc/containerd, /etc/docker,
/etc/cdi, /var/run/cdi); explicit paths are used as given.
"""
import json
import os
import re
import subprocess
import sys

VERSION = "1.18.0"
COMMIT = "aifabric-lab-sim"
ROOT = os.environ.get("AIFABRIC_SIM_ROOT", "")  # test-side path prefix (controller tests)

DEFAULT_CONFIG = {"containerd": "/etc/containerd/config.toml", "docker": "/etc/docker/daemon.json",
                  "crio": "/etc/crio/crio.conf"}
DEFAULT_DROP_IN = {"containerd": "/etc/containerd/conf.d/99-nvidia.toml", "crio": "/etc/crio/conf.d/99-nvidia.toml",
                   "docker": ""}
RUNTIME_PATH = "/usr/bin/nvidia-container-runtime"
CRI = 'plugins."io.containerd.grpc.v1.cri"'
CTRD = CRI + ".containerd"
CDI_DIRS = ("/etc/cdi", "/var/run/cdi")
CDI_VERSION = "0.5.0"
HOOK = "/usr/bin/nvidia-cdi-hook"
LIBDIR = "/usr/lib/x86_64-linux-gnu"
NVML_ERRORS = {9: "ERROR_DRIVER_NOT_LOADED", 18: "ERROR_LIB_RM_VERSION_MISMATCH", 6: "ERROR_NOT_FOUND"}

BOOL_FLAGS = {"dry-run", "set-as-default", "nvidia-set-as-default", "cdi.enabled", "cdi.enable", "enable-cdi",
              "debug", "quiet", "help", "version"}


class CtkError(Exception):
    pass


def info(msg):
    sys.stderr.write("INFO[0000] %s\n" % msg)


def parse_flags(args, allowed):
    """urfave/cli-style flags: --name=value, --name value, bool --name; a flag may repeat."""
    flags, rest = {}, []
    i = 0
    while i < len(args):
        a = args[i]
        if not a.startswith("-") or a == "-":
            rest.append(a)
            i += 1
            continue
        name, eq, value = a.lstrip("-").partition("=")
        if name not in allowed:
            raise CtkError("flag provided but not defined: -%s" % name)
        if name in BOOL_FLAGS:
            value = value.lower() not in ("false", "0") if eq else True
        elif not eq:
            if i + 1 >= len(args):
                raise CtkError("flag needs an argument: -%s" % name)
            i += 1
            value = args[i]
        flags.setdefault(name, []).append(value)
        i += 1
    return {k: v[-1] for k, v in flags.items()}, flags, rest


# ---------------------------------------------------------------- runtime configure

def _sections(text):
    """Split TOML text into [header, lines] chunks; header None for the lines before the first table."""
    out = [[None, []]]
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("[") and s.endswith("]"):
            out.append([s.strip("[]").strip(), [line]])
        else:
            out[-1][1].append(line)
    return out


def _options_of(sections, runtime):
    """Key lines of an existing runtime's options table (the real tool copies runc's options, e.g. SystemdCgroup)."""
    head = "%s.runtimes.%s.options" % (CTRD, runtime)
    for h, lines in sections:
        if h == head:
            return [ln.strip() for ln in lines[1:] if "=" in ln and not ln.strip().startswith(("#", "BinaryName"))]
    return []


def containerd_config(text, name, path, set_default):
    rt_head = "%s.runtimes.%s" % (CTRD, name)
    if not text.strip():
        text = "version = 2\n"
    secs = _sections(text)
    runc_options = _options_of(secs, "runc")
    secs = [s for s in secs if not (s[0] == rt_head or (s[0] or "").startswith(rt_head + "."))]
    have_ctrd = False
    for sec in secs:
        if sec[0] != CTRD:
            continue
        have_ctrd = True
        if set_default:
            indent = re.match(r"\s*", sec[1][0]).group(0) + "  "
            keys = [i for i, ln in enumerate(sec[1]) if re.match(r"\s*default_runtime_name\s*=", ln)]
            line = '%sdefault_runtime_name = "%s"' % (indent, name)
            if keys:
                sec[1][keys[0]] = re.match(r"\s*", sec[1][keys[0]]).group(0) + line.strip()
            else:
                sec[1].insert(1, line)
    body = "\n".join(line for sec in secs for line in sec[1]).rstrip()
    if set_default and not have_ctrd:
        body += '\n\n[%s]\n  default_runtime_name = "%s"' % (CTRD, name)
    opts = ["  " + ln for ln in runc_options] + ['  BinaryName = "%s"' % path]
    body += "\n\n" + "\n".join(
        ["[%s]" % rt_head, "  privileged_without_host_devices = false", '  runtime_engine = ""', '  runtime_root = ""',
         '  runtime_type = "io.containerd.runc.v2"', "", "[%s.options]" % rt_head] + sorted(opts))
    return body.lstrip("\n") + "\n"


def add_imports(text, drop_in):
    """The main config imports the drop-in directory (containerd 1.6/1.7 read no conf.d by themselves)."""
    glob = os.path.join(os.path.dirname(drop_in), "*.toml")
    m = re.search(r"(?m)^imports\s*=\s*\[(.*)\]\s*$", text)
    if m:
        items = [i.strip().strip('"') for i in m.group(1).split(",") if i.strip()]
        if glob in items or drop_in in items:
            return text
        items.append(glob)
        return text[:m.start()] + "imports = [%s]" % ", ".join('"%s"' % i for i in items) + text[m.end():]
    if not text.strip():
        text = "version = 2\n"
    lines = text.splitlines()
    at = next((i + 1 for i, ln in enumerate(lines) if re.match(r"\s*version\s*=", ln)), 0)
    lines.insert(at, 'imports = ["%s"]' % glob)
    return "\n".join(lines) + "\n"


def docker_config(text, name, set_default):
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as e:
        raise CtkError("unable to load config for runtime docker: could not parse config: %s" % e) from e
    data.setdefault("runtimes", {})[name] = {"args": [], "path": "nvidia-container-runtime"}
    if set_default:
        data["default-runtime"] = name
    return json.dumps(data, indent=4, sort_keys=True) + "\n"


def _read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def _write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".aifabric-sim.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def cmd_runtime_configure(args):
    allowed = {"dry-run", "runtime", "config", "drop-in-config", "executable-path", "config-mode", "config-source",
               "oci-hook-path", "nvidia-runtime-name", "nvidia-runtime-path", "runtime-path", "nvidia-runtime-hook-path",
               "nvidia-set-as-default", "set-as-default", "cdi.enabled", "cdi.enable", "enable-cdi", "help"}
    flags = parse_flags(args, allowed)[0]
    runtime = flags.get("runtime", "docker")
    if runtime not in ("containerd", "crio", "docker"):
        raise CtkError("unrecognized runtime '%s'" % runtime)
    if runtime == "crio":
        raise CtkError("the aifabric lab simulator does not support runtime crio")
    name = flags.get("nvidia-runtime-name", "nvidia")
    path = flags.get("nvidia-runtime-path", flags.get("runtime-path", "nvidia-container-runtime"))
    if runtime == "containerd" and path == "nvidia-container-runtime":
        path = RUNTIME_PATH
    if runtime == "containerd" and not os.path.isabs(path):
        raise CtkError('the NVIDIA runtime path "%s" is not an absolute path' % path)
    set_default = bool(flags.get("set-as-default") or flags.get("nvidia-set-as-default"))
    config = flags.get("config") or ROOT + DEFAULT_CONFIG[runtime]
    drop_in = flags.get("drop-in-config")
    if drop_in is None:
        drop_in = (ROOT + DEFAULT_DROP_IN[runtime]) if DEFAULT_DROP_IN[runtime] else ""
    if drop_in and runtime == "docker":
        raise CtkError("runtime docker does not support drop-in configs")
    if drop_in and not os.path.isabs(drop_in):
        raise CtkError('the drop-in-config path "%s" is not an absolute path' % drop_in)

    if runtime == "docker":
        out_path, text = config, docker_config(_read(config), name, set_default)
    elif drop_in:
        out_path, text = drop_in, containerd_config(_read(drop_in), name, path, set_default)
    else:
        out_path, text = config, containerd_config(_read(config), name, path, set_default)
    if flags.get("dry-run"):
        sys.stdout.write(text)
        return 0
    _write(out_path, text)
    if drop_in and runtime == "containerd":
        main = _read(config)
        updated = add_imports(main, drop_in)
        if updated != main:
            _write(config, updated)
    info("Wrote updated config to %s" % out_path)
    info("It is recommended that %s daemon be restarted." % runtime)
    return 0


# ---------------------------------------------------------------- cdi

def read_gpus():
    """(driver version, [(index, uuid)]) from the (simulated) nvidia-smi; NVML errors as the real tool names them."""
    try:
        r = subprocess.run(["nvidia-smi", "--query-gpu=index,uuid,driver_version", "--format=csv,noheader"],
                           capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError as e:
        raise CtkError("failed to generate CDI spec: failed to create device CDI specs: "
                       "failed to initialize NVML: ERROR_LIBRARY_NOT_FOUND") from e
    if r.returncode != 0:
        raise CtkError("failed to generate CDI spec: failed to create device CDI specs: failed to initialize NVML: %s"
                       % NVML_ERRORS.get(r.returncode, "ERROR_UNKNOWN"))
    rows = [[c.strip() for c in line.split(",")] for line in r.stdout.splitlines() if line.strip()]
    if not rows:
        raise CtkError("failed to generate CDI spec: failed to create device CDI specs: no NVIDIA devices found")
    return rows[0][2], [(int(i), u) for i, u, _d in rows]


def build_spec(kind, strategies, driver, gpus):
    devices = []
    for idx, uuid in gpus:
        edits = {"deviceNodes": [{"path": "/dev/nvidia%d" % idx}]}
        for strategy in strategies:
            devices.append({"containerEdits": edits, "name": str(idx) if strategy == "index" else uuid})
    devices.append({"containerEdits": {"deviceNodes": [{"path": "/dev/nvidia%d" % i} for i, _u in gpus]}, "name": "all"})
    ro = ["ro", "nosuid", "nodev", "bind"]
    mounts = [{"containerPath": p, "hostPath": p, "options": ro} for p in
              (LIBDIR + "/libcuda.so." + driver, LIBDIR + "/libnvidia-ml.so." + driver, "/usr/bin/nvidia-smi")]
    hooks = [
        {"args": ["nvidia-cdi-hook", "enable-cuda-compat", "--host-driver-version=" + driver],
         "hookName": "createContainer", "path": HOOK},
        {"args": ["nvidia-cdi-hook", "create-symlinks", "--link", "libcuda.so.1::" + LIBDIR + "/libcuda.so"],
         "hookName": "createContainer", "path": HOOK},
        {"args": ["nvidia-cdi-hook", "update-ldcache", "--folder", LIBDIR], "hookName": "createContainer", "path": HOOK},
        {"args": ["nvidia-cdi-hook", "disable-device-node-modification"], "hookName": "createContainer", "path": HOOK},
    ]
    nodes = ("/dev/nvidia-modeset", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidiactl")
    common = {"deviceNodes": [{"path": p} for p in nodes],
              "env": ["NVIDIA_VISIBLE_DEVICES=void"], "hooks": hooks, "mounts": mounts}
    return {"cdiVersion": CDI_VERSION, "containerEdits": common, "devices": devices, "kind": kind}


def _scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    s = str(v)
    if re.fullmatch(r"-?[0-9]+(\.[0-9]*)?|true|false|null|yes|no|on|off|~|-", s, re.I) or s == "" \
            or s[0] in "?:,[]{}#&*!|>'\"%@`" or s.startswith("- ") or ": " in s or " #" in s:
        return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')
    return s


def to_yaml(v, indent=0):
    """Block-style YAML as Go's yaml.v3 writes it (sequences of maps at their key's indentation)."""
    pad = " " * indent
    lines = []
    if isinstance(v, dict):
        for k, val in v.items():
            if isinstance(val, (dict, list)) and val:
                lines.append("%s%s:" % (pad, k))
                lines.extend(to_yaml(val, indent + 2 if isinstance(val, dict) else indent))
            else:
                lines.append("%s%s: %s" % (pad, k, _scalar(val) if not isinstance(val, (dict, list)) else
                                           ("{}" if isinstance(val, dict) else "[]")))
    else:
        for item in v:
            sub = to_yaml(item, indent + 2) if isinstance(item, (dict, list)) else [pad + "  " + _scalar(item)]
            lines.append(pad + "- " + sub[0][indent + 2:])
            lines.extend(sub[1:])
    return lines


def cmd_cdi_generate(args):
    allowed = {"output", "format", "device-name-strategy", "vendor", "cdi-vendor", "class", "cdi-class", "mode",
               "driver-root", "dev-root", "library-search-path", "nvidia-cdi-hook-path", "nvidia-ctk-path", "ldconfig-path",
               "csv.file", "csv.ignore-pattern", "feature-flag", "help"}
    flags, multi, _rest = parse_flags(args, allowed)
    out = flags.get("output", "")
    fmt = flags.get("format", "yaml")
    if out and "format" not in flags and out.endswith(".json"):
        fmt = "json"
    if fmt not in ("yaml", "json"):
        raise CtkError('invalid output format: %s' % fmt)
    strategies = []
    for s in multi.get("device-name-strategy", ["index", "uuid"]):
        for one in s.split(","):
            if one not in ("index", "uuid", "type-index"):
                raise CtkError('invalid device name strategy: %s' % one)
            strategies.append("index" if one == "type-index" else one)
    kind = "%s/%s" % (flags.get("vendor", flags.get("cdi-vendor", "nvidia.com")), flags.get("class", flags.get("cdi-class", "gpu")))
    info("Auto-detected mode as 'nvml'")
    driver, gpus = read_gpus()
    spec = build_spec(kind, strategies, driver, gpus)
    text = json.dumps(spec, indent=2) + "\n" if fmt == "json" else "---\n" + "\n".join(to_yaml(spec)) + "\n"
    info("Generated CDI spec with version %s" % CDI_VERSION)
    if out:
        _write(out, text)
    else:
        sys.stdout.write(text)
    return 0


def spec_devices(path):
    """Qualified device names of one spec file (the shapes this simulator and the real tool write)."""
    text = _read(path)
    if path.endswith(".json"):
        data = json.loads(text)
        return ["%s=%s" % (data["kind"], d["name"]) for d in data.get("devices", [])]
    kind = re.search(r"(?m)^kind:\s*(\S+)", text)
    if not kind:
        return []
    names = re.findall(r"(?m)^(?:-|\s)\s*name:\s*(\S+)\s*$", text.split("\ndevices:", 1)[-1].split("\nkind:", 1)[0])
    return ["%s=%s" % (kind.group(1).strip("'\""), n.strip("'\"")) for n in names]


def cmd_cdi_list(args):
    parse_flags(args, {"spec-dir", "help"})
    devices = []
    for d in CDI_DIRS:
        try:
            names = sorted(os.listdir(ROOT + d))
        except OSError:
            continue
        for n in names:
            if n.endswith((".yaml", ".json")):
                devices.extend(spec_devices(os.path.join(ROOT + d, n)))
    devices = sorted(set(devices))
    info("Found %d CDI devices" % len(devices))
    sys.stdout.write("".join(d + "\n" for d in devices))
    return 0


USAGE = """NAME:
   NVIDIA Container Toolkit CLI - Tools to configure the NVIDIA Container Toolkit

USAGE:
   nvidia-ctk [global options] command [command options]

VERSION:
   %s
commit: %s

COMMANDS:
   hook     A collection of hooks that may be injected into an OCI spec
   runtime  A collection of runtime-related utilities for the NVIDIA Container Toolkit
   info     Provide information about the system
   cdi      Provide tools for interacting with Container Device Interface specifications
   system   A collection of system-related utilities for the NVIDIA Container Toolkit
   config   Interact with the NVIDIA Container Toolkit configuration
   help, h  Shows a list of commands or help for one command

GLOBAL OPTIONS:
   --debug, -d    Enable debug-level logging (default: false)
   --quiet        Suppress all output except for errors; overrides --debug (default: false)
   --help, -h     show help
   --version, -v  print the version
""" % (VERSION, COMMIT)


def main(argv):
    args = [a for a in argv if a not in ("--debug", "-d", "--quiet")]
    if args[:1] in (["--version"], ["-v"]):
        sys.stdout.write("NVIDIA Container Toolkit CLI version %s\ncommit: %s\n" % (VERSION, COMMIT))
        return 0
    if not args or args[0] in ("--help", "-h", "help", "h"):
        sys.stdout.write(USAGE)
        return 0
    commands = {("runtime", "configure"): cmd_runtime_configure, ("cdi", "generate"): cmd_cdi_generate,
                ("cdi", "list"): cmd_cdi_list}
    fn = commands.get(tuple(args[:2]))
    if fn is None:
        sys.stderr.write("No help topic for '%s'\n" % " ".join(args[:2]))
        return 3
    try:
        return fn(args[2:])
    except CtkError as e:
        sys.stderr.write("ERRO[0000] %s\n" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
