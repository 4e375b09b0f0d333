#!/usr/bin/env bash
# Turn a debootstrapped Debian 12 tree into a "provisioned server" for the lab.
# Test-side only: this is the simulated hardware and installed OS, never role code.
set -euo pipefail
r="$1"
rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/archives/*.deb "$r"/tmp/mirror
: > "$r/etc/machine-id"
rm -f "$r/var/lib/dbus/machine-id"
# no reachable Debian mirror inside the lab: sources come from the site mirror the
# roles configure
: > "$r/etc/apt/sources.list"
rm -f "$r/etc/resolv.conf"; echo "# lab: no DNS" > "$r/etc/resolv.conf"
echo 'localhost' > "$r/etc/hostname"

# the unprivileged admin user Ansible logs in as, with the lab-only key
chroot "$r" useradd -m -s /bin/bash -G sudo aifabric
install -d -m 0700 -o 1000 -g 1000 "$r/home/aifabric/.ssh"
echo "$PUBKEY" > "$r/home/aifabric/.ssh/authorized_keys"
chown 1000:1000 "$r/home/aifabric/.ssh/authorized_keys"; chmod 0600 "$r/home/aifabric/.ssh/authorized_keys"
echo 'aifabric ALL=(ALL) NOPASSWD: ALL' > "$r/etc/sudoers.d/aifabric"; chmod 0440 "$r/etc/sudoers.d/aifabric"
cat > "$r/etc/ssh/sshd_config.d/lab.conf" <<'CONF'
PasswordAuthentication no
PermitRootLogin no
UseDNS no
CONF
# host keys are generated per container at first boot
rm -f "$r"/etc/ssh/ssh_host_*
mkdir -p "$r/etc/systemd/system/ssh.service.d"
cat > "$r/etc/systemd/system/ssh.service.d/lab-hostkeys.conf" <<'CONF'
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
CONF
ln -sf /lib/systemd/system/ssh.service "$r/etc/systemd/system/multi-user.target.wants/ssh.service"

# units that make no sense in a container; etcd.service: Debian's own etcd, whose ports and
# data directory belong to the control plane's static Pod etcd (kubeadm's preflight checks
# 2379, 2380 and an empty /var/lib/etcd)
for u in systemd-networkd-wait-online.service getty@tty1.service systemd-timesyncd.service \
         apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service etcd.service; do
  ln -sf /dev/null "$r/etc/systemd/system/$u"
done

# The lab's "hardware": the host clock is not the sim host's to set (no CAP_SYS_TIME),
# so chronyd runs without touching it (-x) while still serving and tracking time.
mkdir -p "$r/etc/systemd/system/chrony.service.d"
cat > "$r/etc/systemd/system/chrony.service.d/lab-clock.conf" <<'CONF'
[Unit]
ConditionCapability=
[Service]
ExecStart=
ExecStart=!/usr/sbin/chronyd $DAEMON_OPTS -x
CONF
