module.exports = {
  notebook: ['intro', {type: 'category', label: 'The hive', items: ['hive/frames', 'hive/smoke']}],
};
