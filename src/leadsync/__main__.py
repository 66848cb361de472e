from leadsync.cli import main

main()
