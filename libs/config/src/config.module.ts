import { type DynamicModule, Global, Module } from '@nestjs/common';
import { CommonEnv } from './common.env';

/** Makes the app's validated env available by its own class and as CommonEnv for the libs. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot<T extends CommonEnv>(env: T): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: env.constructor, useValue: env },
        { provide: CommonEnv, useValue: env },
      ],
      exports: [env.constructor as new () => T, CommonEnv],
    };
  }
}
