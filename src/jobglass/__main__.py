from jobglass.cli.main import main

main()
