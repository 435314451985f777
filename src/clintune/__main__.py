from clintune.cli import run

run()
