"""nasbook.tables: the shipped tables, package data of an installed nasbook (README.md here
is their provenance). Read them with nb.bench.load() and nb.bench.load_explanations()."""
