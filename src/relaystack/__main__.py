from relaystack.cli import main

raise SystemExit(main())
