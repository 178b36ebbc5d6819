"""History: sync of orders/dividends/transactions, closed trades with R, daily values, exports.

Rooms: `records` (items -> rows), `sync` (paging, cursors), `trades` and `equity` (pure),
`recorder` (the snapshot hook), `book` (reads the store for every front end), `export` (CSV,
Excel), `demo` (the demo broker's history), `tax` (Trading 212's CSV report, UK capital gains).
"""
