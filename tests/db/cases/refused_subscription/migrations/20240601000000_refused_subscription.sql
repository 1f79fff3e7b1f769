create subscription pull_orders
  connection 'host=127.0.0.1 dbname=shop' publication orders with (connect = false);
