"""supervisord RPC interface that also accepts a grouped program by its bare name.

supervisord names a program inside `[group:gmail-servers]` only as
`gmail-servers:gmail-api-server`, so `supervisorctl restart gmail-api-server` would answer
"no such process". This interface resolves a bare name to the one group that holds it, so
`restart gmail-api-server`, `stop gmail-mcp-server`, `pid ...`, `tail ...` act on that
program alone, while `gmail-servers:*` keeps addressing the group.

supervisord imports it by module name: scripts/lib.sh puts this folder on the path of the
project's .venv; with another supervisord, run it with PYTHONPATH=supervisor.
"""

from supervisor.rpcinterface import SupervisorNamespaceRPCInterface


class GroupAwareRPCInterface(SupervisorNamespaceRPCInterface):
    def _getGroupAndProcess(self, name):
        groups = self.supervisord.process_groups
        if ":" not in name and name not in groups:
            owners = [g for g, group in groups.items() if name in group.processes]
            # Only an unambiguous bare name is rewritten; anything else keeps the stock answer.
            if len(owners) == 1:
                name = "%s:%s" % (owners[0], name)
        return SupervisorNamespaceRPCInterface._getGroupAndProcess(self, name)


def make_main_rpcinterface(supervisord):
    return GroupAwareRPCInterface(supervisord)
