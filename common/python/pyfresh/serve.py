"""Compatibility: ``python3 -m pyfresh.serve`` runs the development server
of pyfresh.hosts.serve."""

from .hosts.serve import main

if __name__ == "__main__":
    main()
