"""`joule bench`: Joule side by side with a raw WebSocket ceiling under one load generator.

An outside actor, like the simulator: it talks to servers over loopback only and imports no
server-side room (performance.md §2, §3; targets T1–T9).
"""
