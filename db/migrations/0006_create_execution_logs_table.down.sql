DROP TABLE IF EXISTS `execution_logs`;
