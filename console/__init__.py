"""The operator console: `python main.py console` serves a local page that shows what the robot
sees and thinks (camera with perceived objects, chat, chain of thought, decisions with scores,
the arm's state), asks its questions as numbered boxes on the picture, and has a STOP button.

The page is one more front end of the same session as `main.py session`: the same
``agent.commands.session.open_live`` opens the table, transcript and SQLite-checkpointed
``AgentSession``, and the same ``converse`` loop drives it; the page is its ``Channel``.

    feed.py        what the agent thread publishes (events, arm state, camera frames) for the page
    watched_arm.py the Arm wrapper that hands states and frames to the feed
    page_channel.py the page as a Channel: typed text, clicked answers, STOP, session switches
    messages.py    typed messages from the page
    server.py      the local HTTP + websocket server (static page, /ws, access token)
    app.py         the agent thread: open a session, converse, switch sessions
    command.py     `main.py console` arguments and run
"""
