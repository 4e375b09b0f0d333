"""aifabric lab: "build" the Lustre 2.15.6 client modules for a kernel, as DKMS would (test double).

    python3 lustre_kmod.py install [--kernel K] [--vermagic-kernel V]   # default K, V: uname -r
    python3 lustre_kmod.py remove [--kernel K]

Writes /lib/modules/K/updates/dkms/{lustre,lnet}.ko and runs `depmod -a K`. Each .ko is a
minimal ELF64 relocatable (x86-64) with a .modinfo section (version, license, description,
name, vermagic "V SMP preempt mod_unload modversions "), an empty symbol table and the section
names: enough for kmod's modinfo and depmod, not loadable. `--vermagic-kernel` other than K is
a module left from another kernel (a DKMS build that failed after a kernel upgrade).
Test-side only, see lab/simulators/README.md ("Lustre"). Python 3 standard library only.
"""
import argparse
import os
import struct
import subprocess
import sys

VERSION = "2.15.6"
MODULES = {
    "lustre": "Lustre Client File System",
    "lnet": "Lustre Networking layer",
}


def elf_module(name, description, vermagic):
    """The bytes of a minimal ELF64 relocatable kernel module."""
    modinfo = b"".join(b"%s=%s\0" % (k.encode(), v.encode()) for k, v in (
        ("version", VERSION), ("license", "GPL"), ("description", description),
        ("author", "OpenSFS, Inc. <http://www.lustre.org/>"), ("srcversion", "A1F0C3D2E4B5967880A1B2C"),
        ("depends", "" if name == "lnet" else "lnet"), ("retpoline", "Y"), ("name", name),
        ("vermagic", vermagic)))
    shstrtab = b"\0.modinfo\0.symtab\0.strtab\0.shstrtab\0"
    symtab = b"\0" * 24  # the null symbol
    strtab = b"\0"
    sections = [modinfo, symtab, strtab, shstrtab]
    offsets, off, body = [], 64, b""
    for data in sections:
        pad = (-off) % 8
        body += b"\0" * pad
        off += pad
        offsets.append(off)
        body += data
        off += len(data)
    pad = (-off) % 8
    body += b"\0" * pad
    shoff = off + pad
    # e_ident, e_type REL, e_machine x86-64, e_version, e_entry, e_phoff, e_shoff, e_flags,
    # e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
    header = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack(
        "<HHIQQQIHHHHHH", 1, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 5, 4)

    def shdr(name_off, sh_type, flags, index, link=0, info=0, align=1, entsize=0):
        return struct.pack("<IIQQQQIIQQ", name_off, sh_type, flags, 0, offsets[index],
                           len(sections[index]), link, info, align, entsize)
    table = b"\0" * 64  # SHN_UNDEF
    table += shdr(shstrtab.index(b".modinfo"), 1, 0x2, 0)  # PROGBITS, ALLOC
    table += shdr(shstrtab.index(b".symtab"), 2, 0, 1, link=3, info=1, align=8, entsize=24)
    table += shdr(shstrtab.index(b".strtab"), 3, 0, 2)
    table += shdr(shstrtab.index(b".shstrtab"), 3, 0, 3)
    return header + body + table


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=["install", "remove"])
    ap.add_argument("--kernel", default=os.uname().release)
    ap.add_argument("--vermagic-kernel", default=None)
    args = ap.parse_args()
    root = os.environ.get("AIFABRIC_SIM_ROOT", "")  # test-side prefix: no depmod then
    moddir = "%s/lib/modules/%s/updates/dkms" % (root, args.kernel)
    if args.action == "install":
        os.makedirs(moddir, exist_ok=True)
        vermagic = "%s SMP preempt mod_unload modversions " % (args.vermagic_kernel or args.kernel)
        for name, description in MODULES.items():
            tmp = os.path.join(moddir, ".%s.ko.tmp" % name)
            with open(tmp, "wb") as f:
                f.write(elf_module(name, description, vermagic))
            os.chmod(tmp, 0o644)
            os.replace(tmp, os.path.join(moddir, name + ".ko"))
    else:
        for name in MODULES:
            try:
                os.remove(os.path.join(moddir, name + ".ko"))
            except FileNotFoundError:
                pass
    if not root:
        # a container has no kernel tree: the index files depmod reads, empty (it warns without them)
        for index in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
            path = "/lib/modules/%s/%s" % (args.kernel, index)
            if not os.path.exists(path):
                open(path, "a").close()  # pylint: disable=consider-using-with
        return subprocess.run(["depmod", "-a", args.kernel], check=False).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
