"""Scripts that turn the course's real datasets into the folders the lessons read.

Run each one as ``python data_scripts/NAME.py --help`` (or ``python -m data_scripts.NAME --help``).
Shared pieces (polite HTTP, resumable downloads, safe archive extraction, parallel maps) live in
:mod:`data_scripts.common`.
"""
