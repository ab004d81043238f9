from rentmeter.cli import main

raise SystemExit(main())
