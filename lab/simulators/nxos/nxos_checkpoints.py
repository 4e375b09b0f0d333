"""aifabric lab TEST DOUBLE of a Cisco Nexus 9000 switch, checkpoints and rollback: checkpoint, show checkpoint,
clear checkpoint, rollback running-config; copy running-config startup-config.

A mixin of nxos_sim.Device, whose state, lock and rules it uses. Test-side only
(lab/simulators/README.md, "Cisco NX-OS switch")."""

import copy
import time

from nxos_cli import CliError, render_config


class CheckpointCommands:
    """Checkpoints and rollback."""

    def x_show_cp_summary(self, session, values, negate):
        lines = ["", "User Checkpoints:", "--------------------------------------"]
        for n, (name, cp) in enumerate(sorted(self.state["checkpoints"].items(), key=lambda kv: kv[1]["created"]), 1):
            size = len("\n".join(render_config(cp["config"], False)))
            lines += ["%d) %s:" % (n, name), "Created by admin", "Created at " + time.strftime("%a, %H:%M:%S %d %b %Y", time.localtime(cp["created"])),
                      "Size is {:,} bytes".format(size), "Description: None", ""]
        return "\n".join(lines)

    def x_show_cp(self, session, values, negate):
        name = values[2]
        cp = self.state["checkpoints"].get(name)
        if cp is None:
            raise CliError("ERROR: Checkpoint %s does not exist" % name)
        return "\n".join(["", "Name: " + name] + render_config(cp["config"], False))

    def x_checkpoint(self, session, values, negate):
        name = values[1] if len(values) > 1 else None
        if negate:
            if name not in self.state["checkpoints"]:
                raise CliError("ERROR: Checkpoint %s does not exist" % name)
            del self.state["checkpoints"][name]
            self.save()
            return ""
        if name in self.state["checkpoints"]:
            raise CliError("ERROR: Checkpoint name is already in use")
        self.state["checkpoints"][name] = {"created": time.time(), "config": copy.deepcopy(self.running)}
        self.save()
        return ".......Done"

    def x_checkpoint_file(self, session, values, negate):
        self.state["files"][values[2]] = {"created": time.time(), "config": copy.deepcopy(self.running)}
        self.save()
        return ".......Done"

    def x_clear_cp(self, session, values, negate):
        self.state["checkpoints"] = {}
        self.save()
        return "Checkpoint Database Cleared Successfully"

    def do_rollback(self, source):
        self.state["running"] = copy.deepcopy(source["config"])
        self.generation += 1
        self.changed()
        return "\n".join(["Note: Applying config parallelly may fail Rollback verification", "Collecting Running-Config",
                          "#Generating Rollback Patch", "Executing Rollback Patch", "#Generating Running-config for verification",
                          "#Generating Patch for verification", "Verification is Successful.", "", "Rollback completed successfully."])

    def x_rollback(self, session, values, negate):
        name = values[3]
        if name not in self.state["checkpoints"]:
            raise CliError("ERROR: Checkpoint %s does not exist" % name)
        out = self.do_rollback(self.state["checkpoints"][name])
        self.reset_session_context(session)
        return out

    def x_rollback_file(self, session, values, negate):
        name = values[3]
        if name not in self.state["files"]:
            raise CliError("ERROR: Rollback file %s does not exist" % name)
        out = self.do_rollback(self.state["files"][name])
        self.reset_session_context(session)
        return out

    def x_copy_rs(self, session, values, negate):
        self.state["startup"] = copy.deepcopy(self.running)
        self.state["startup_saved"] = time.time()
        self.save()
        return "[########################################] 100%\nCopy complete, now saving to disk (please wait)...\nCopy complete."
