process.env.CERTUSORDO_TEST_BACKEND = 'postgres';
