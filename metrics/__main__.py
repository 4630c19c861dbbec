from data_access.cli import run_as_script

from .cli import main

run_as_script(main)
