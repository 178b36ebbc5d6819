from papishares.cli import main

raise SystemExit(main())
