from drvtape.cli import main

main()
