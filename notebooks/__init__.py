"""nasbook.lessons: the numbered notebooks, package data of an installed nasbook.

Copy them out with `nasbook notebooks DEST`; open them with `make lab` in a clone."""
