from stream_guard.train.cli import main

raise SystemExit(main())
