DROP TABLE IF EXISTS `workflow_steps`;
