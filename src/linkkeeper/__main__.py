from linkkeeper.cli import entry

entry()
