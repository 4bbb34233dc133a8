"""``python -m medtransfer``: the same as the ``medtransfer`` command."""

from medtransfer.cli import main

main()
