"""HTTP: the app, the one request pipeline both protocols share, the fast lane, connections,
metrics middleware and the offline docs; one package per protocol (:mod:`.book`, :mod:`.v2`)."""
