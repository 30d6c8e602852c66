DROP TABLE meter_reads;
