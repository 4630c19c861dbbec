"""The parse worker's launch is a copy of the interpreter's forkserver launch (minus importing __main__):
a Python whose launch differs must fail here, so the copy is re-read rather than silently out of date."""
from __future__ import annotations

import hashlib
import inspect
from multiprocessing import popen_forkserver

from data_access.imports.parse_worker import _WithoutMain

# sha256 of Python 3.11's popen_forkserver.Popen._launch source, which _WithoutMain._launch copies
COPIED_LAUNCH = "214844899bd3407f72082111e993b40f7c271620be27195b878ea1e44a5f3837"


def test_the_copied_launch_matches_this_interpreter() -> None:
    source = inspect.getsource(popen_forkserver.Popen._launch)
    assert hashlib.sha256(source.encode("utf-8")).hexdigest() == COPIED_LAUNCH, (
        "multiprocessing's forkserver Popen._launch changed with this Python: compare it with "
        "data_access.imports.parse_worker._WithoutMain._launch, carry the change over, then record the new hash here")


def test_the_copy_drops_only_the_import_of_main() -> None:
    ours = inspect.getsource(_WithoutMain._launch)
    assert "init_main_from_name" in ours and "init_main_from_path" in ours
    for step in ("reduction.dump(prep_data, buf)", "reduction.dump(process_obj, buf)", "forkserver.connect_to_new_process",
                 "os.dup(w)", "util.Finalize", "forkserver.read_signed(self.sentinel)"):
        assert step in ours, step
