# Makes policies/ a package so `pip install .` ships its *.yml (package-data) next to the service.
