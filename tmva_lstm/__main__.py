"""``python -m tmva_lstm`` runs the ``tmva-lstm`` command."""

from .cli import main

raise SystemExit(main())
