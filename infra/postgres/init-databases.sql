-- One database per service on the shared server (docker-compose); services never share tables.
CREATE DATABASE clipcart_catalog;
CREATE DATABASE clipcart_video;
CREATE DATABASE clipcart_checkout;
