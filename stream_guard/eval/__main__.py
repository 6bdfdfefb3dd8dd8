from stream_guard.eval.cli import main

raise SystemExit(main())
