from clintune.cli import main

main()
