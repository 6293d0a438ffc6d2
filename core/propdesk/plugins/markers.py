"""pluggy markers bound to the project name."""

import pluggy

PROJECT = "propdesk"
ENTRY_POINT_GROUP = "propdesk.plugins"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
