DROP TABLE IF EXISTS `workflows`;
